/**
 * `kill -9` of a real daemon process: the next CLI call finds the stale
 * socket and lock file, starts a new daemon and succeeds, and every write
 * the dead daemon acknowledged is still there.
 */
import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { connect } from '../../lib/daemon/client.ts'
import { daemonPaths } from '../../lib/daemon/paths.ts'
import { sandbox } from '../helpers/tmp-repos.ts'
import { cliProcess, eventually, stopDaemonOf } from '../integration/lib/daemon/daemon-helpers.ts'

function gone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z' // killed, not yet reaped
  } catch {
    return true
  }
}

t.test('after kill -9 the next CLI call replaces the stale daemon and succeeds', async (t) => {
  const box = sandbox()
  t.teardown(async () => { await stopDaemonOf(box.home); box.cleanup() })
  const repo = box.repo('k9')
  const env = { ...process.env, CAIRN_HOME: box.home }
  const run = (args: string[]) => cliProcess([...args, '--json'], { cwd: repo, env })

  const created = await run(['issue', 'create', 'before the crash'])
  t.equal(created.code, 0, `the first call auto-starts a daemon and creates (stderr ${created.stderr})`)
  const issueId = JSON.parse(created.stdout).data.id as string
  const first = JSON.parse((await run(['daemon', 'status'])).stdout).data.pid as number
  t.ok(first > 0 && first !== process.pid, 'a daemon process serves the home')

  // Writes keep flowing (16 in flight) until the daemon dies under them.
  const c = await connect(box.home)
  const acked: string[] = []
  let failed = 0
  const writer = async (lane: number): Promise<void> => {
    for (let i = lane; i < 20_000; i += 16) {
      try {
        await c.request('issues.comment', { repo, args: { id: issueId, body: `w${i}`, opId: `k9-${i}` } })
        acked.push(`w${i}`)
      } catch {
        failed++
        return
      }
    }
  }
  const lanes = Array.from({ length: 16 }, (_, lane) => writer(lane))
  await eventually(() => acked.length >= 50, 15_000, 2)
  process.kill(first, 'SIGKILL')
  await Promise.all(lanes)
  t.ok(failed > 0, `writes were still in flight at the kill (${failed} cut off)`)
  await eventually(() => gone(first), 10_000)
  const paths = daemonPaths(box.home)
  t.ok(existsSync(paths.socket) && existsSync(paths.lock), 'the dead daemon left its socket and lock file behind')

  const listed = await run(['issue', 'list'])
  t.equal(listed.code, 0, `the next call succeeds (stderr ${listed.stderr})`)
  t.same(JSON.parse(listed.stdout).data.map((i: { title: string }) => i.title), ['before the crash'], 'with the data from before the crash')
  const second = JSON.parse((await run(['daemon', 'status'])).stdout).data.pid as number
  t.not(second, first, 'served by a new daemon')
  t.equal(JSON.parse(readFileSync(paths.lock, 'utf8')).pid, second, 'whose lock file replaced the stale one')

  const shown = JSON.parse((await run(['issue', 'show', issueId])).stdout).data as { comments: { body: string }[] }
  const bodies = new Set(shown.comments.map((x) => x.body))
  t.ok(acked.length >= 50, `${acked.length} writes were acknowledged before the kill`)
  t.same(acked.filter((b) => !bodies.has(b)), [], 'every acknowledged write survived kill -9')
})
