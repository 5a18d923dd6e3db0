/**
 * A progress bar for long work (sync) on an interactive terminal. It draws
 * on stderr so stdout stays clean for piping; the CLI only creates one when
 * stdout is a TTY and `--json` is off.
 */
import cliProgress from 'cli-progress'

export interface Progress { update(p: { phase?: string; done?: number; total?: number }): void; stop(): void }

export function progressBar(): Progress {
  const bar = new cliProgress.SingleBar({
    format: '{phase} [{bar}] {value}/{total}',
    hideCursor: true,
    clearOnComplete: true,
    stream: process.stderr,
  }, cliProgress.Presets.shades_classic)
  let started = false
  return {
    update(p) {
      const total = typeof p.total === 'number' && p.total > 0 ? p.total : 1
      const done = typeof p.done === 'number' ? Math.min(p.done, total) : 0
      const phase = typeof p.phase === 'string' ? p.phase : 'sync'
      if (!started) { bar.start(total, done, { phase }); started = true } else { bar.setTotal(total); bar.update(done, { phase }) }
    },
    stop() { if (started) bar.stop() },
  }
}
