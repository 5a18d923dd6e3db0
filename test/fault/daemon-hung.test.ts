/**
 * A daemon that holds its home but does not answer (SIGSTOP, a real stopped
 * process): CLI calls end with UNAVAILABLE naming it, instead of waiting for
 * a home nobody else can take; `daemon status` and `daemon stop` say so too;
 * `daemon stop --force` kills it, and the next call starts a new daemon with
 * every acknowledged write still there.
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { sandbox } from '../helpers/tmp-repos.ts'
import { cliProcess, envelope, eventually, stopDaemonOf } from '../integration/lib/daemon/daemon-helpers.ts'
import { pidAlive } from '../../lib/daemon/lock-file.ts'

function state(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
  } catch {
    return null
  }
}

type Test = Parameters<Parameters<typeof t.test>[0]>[0]

/**
 * A CLI-started daemon holding one issue, then SIGSTOPped. Teardown resumes
 * it (or kills it) unless the test let go of it with `release()`.
 */
async function stoppedDaemon(t: Test, title: string, atEnd: 'SIGKILL' | 'SIGCONT') {
  const box = sandbox()
  let held = 0
  t.teardown(async () => {
    if (held) { try { process.kill(held, atEnd) } catch { /* gone */ } }
    await stopDaemonOf(box.home)
    box.cleanup()
  })
  const repo = box.repo('daemon')
  const env = { ...process.env, CAIRN_HOME: box.home }
  const run = (args: string[]) => cliProcess([...args, '--json'], { cwd: repo, env, timeoutMs: 60_000 })
  const created = envelope(await run(['issue', 'create', title]))
  t.equal(created.ok, true, 'the first call starts a daemon')
  const pid = (envelope(await run(['daemon', 'status'])).data as { pid: number }).pid
  process.kill(pid, 'SIGSTOP')
  held = pid
  // The signal is delivered asynchronously: wait (bounded) until the kernel shows it stopped.
  await eventually(() => state(pid) === 'T', 10_000)
  t.equal(state(pid), 'T', 'the daemon process is stopped')
  return { run, pid, id: (created.data as { id: string }).id, release: () => { held = 0 } }
}

t.test('a stopped daemon is reported, not waited for, and stop --force ends it', async (t) => {
  const { run, pid, id, release } = await stoppedDaemon(t, 'before the stop', 'SIGKILL')

  const listed = await run(['issue', 'list'])
  const e = envelope(listed)
  t.equal(listed.code, 10, 'UNAVAILABLE exit code')
  t.equal(e.error?.code, 'UNAVAILABLE')
  t.match(e.error?.message, new RegExp(`pid ${pid}.*does not answer.*daemon stop --force`), 'names the daemon and the way out')
  t.equal(listed.signal, null, 'the call ended by itself')

  const status = envelope(await run(['daemon', 'status']))
  t.equal(status.error?.code, 'UNAVAILABLE')
  t.match(status.error?.message, /does not answer/, 'status does not claim that no daemon runs')
  const stop = envelope(await run(['daemon', 'stop']))
  t.equal(stop.error?.code, 'UNAVAILABLE', 'a plain stop cannot stop it and says so')
  t.equal(state(pid), 'T', 'and leaves it alone')

  const doctor = await run(['doctor', '--fix'])
  const checks = (envelope(doctor).data as { healthy: boolean; checks: { name: string; ok: boolean; detail: string }[] })
  t.equal(doctor.code, 30, 'doctor reports a problem')
  t.equal(checks.healthy, false)
  t.match(checks.checks.find((c) => c.name === 'daemon')?.detail, new RegExp(`pid ${pid} holds the home but does not answer`), 'doctor names the silent daemon, not stale files')
  t.equal(state(pid), 'T', 'and --fix leaves it alone')

  const forced = await run(['daemon', 'stop', '--force'])
  t.same(envelope(forced).data, { wasRunning: true, pid, killed: true }, 'stop --force kills the silent daemon')
  release()
  t.not(state(pid), 'T', 'the stopped process is gone (or a zombie)')

  const shown = envelope(await run(['issue', 'show', id]))
  t.equal(shown.ok, true, 'the next call starts a new daemon')
  t.equal((shown.data as { title: string }).title, 'before the stop', 'the acknowledged write is there')
  const next = (envelope(await run(['daemon', 'status'])).data as { pid: number }).pid
  t.not(next, pid, 'served by a new daemon')
})

t.test('a daemon that is only slow (its heartbeat is fresh) is waited for, not reported', async (t) => {
  const { run, pid, id, release } = await stoppedDaemon(t, 'slow but alive', 'SIGCONT')
  // Resumed after 7 s: past the 5 s hello timeout, well inside the 15 s heartbeat window.
  const call = run(['issue', 'show', id])
  await new Promise((r) => setTimeout(r, 7000))
  process.kill(pid, 'SIGCONT')
  release()
  const shown = envelope(await call)
  t.equal(shown.ok, true, 'the call waited for the daemon and got its answer')
  t.equal((shown.data as { title: string }).title, 'slow but alive')
  t.equal((envelope(await run(['daemon', 'status'])).data as { pid: number }).pid, pid, 'the same daemon still serves')
})

t.test('stop --force never kills what does not hold the home', async (t) => {
  const box = sandbox()
  t.teardown(async () => { await stopDaemonOf(box.home); box.cleanup() })
  const repo = box.repo('idle')
  const env = { ...process.env, CAIRN_HOME: box.home }
  const forcedNone = envelope(await cliProcess(['daemon', 'stop', '--force', '--json'], { cwd: repo, env }))
  t.same(forcedNone.data, { wasRunning: false }, 'no daemon: nothing to kill')
  t.equal(envelope(await cliProcess(['issue', 'create', 'x', '--json'], { cwd: repo, env })).ok, true)
  const live = (envelope(await cliProcess(['daemon', 'status', '--json'], { cwd: repo, env })).data as { pid: number }).pid
  const forcedLive = envelope(await cliProcess(['daemon', 'stop', '--force', '--json'], { cwd: repo, env }))
  t.same(forcedLive.data, { wasRunning: true, pid: live }, 'a daemon that answers is stopped gracefully, not killed')
  t.notOk(pidAlive(live), 'stop answers once the daemon process is gone, not only its socket')
})
