/**
 * Progress while the harness runs: a cli-progress bar per phase when stderr
 * is a terminal, one line per phase otherwise (CI logs, pipes), so a log
 * never fills with redraws. Always on stderr: stdout carries the report.
 */
import cliProgress from 'cli-progress'

export interface PhaseProgress {
  /** `done` of the phase's `total` units are complete. */
  update(done: number): void
  /** Ends the phase with a closing remark (e.g. `5,000 ops in 1.2 s`). */
  finish(remark: string): void
}

export interface Progress {
  /** Starts a phase of `total` units (0: no bar, just the lines). */
  phase(label: string, total: number): PhaseProgress
  log(line: string): void
}

/**
 * A progress reporter on `stream` (default stderr); the bar only on a TTY.
 * @example const p = progress().phase('embedded/burst', 4000); p.update(100); p.finish('done')
 */
export function progress(stream: NodeJS.WriteStream = process.stderr, prefix = 'bench'): Progress {
  const tty = stream.isTTY === true
  return {
    log: (line) => { stream.write(`${prefix}: ${line}\n`) },
    phase(label, total) {
      const t0 = Date.now()
      if (!tty || total <= 0) {
        stream.write(`${prefix}: ${label}...\n`)
        return {
          update: () => {},
          finish: (remark) => { stream.write(`${prefix}: ${label}: ${remark} (${Date.now() - t0} ms)\n`) },
        }
      }
      const bar = new cliProgress.SingleBar({
        stream, format: `${prefix}: {label} [{bar}] {value}/{total} ops | {duration}s`, hideCursor: true, fps: 10, clearOnComplete: true,
      }, cliProgress.Presets.shades_classic)
      bar.start(total, 0, { label })
      return {
        update: (done) => bar.update(Math.min(done, total)),
        finish: (remark) => {
          bar.stop()
          stream.write(`${prefix}: ${label}: ${remark} (${Date.now() - t0} ms)\n`)
        },
      }
    },
  }
}
