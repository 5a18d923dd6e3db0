/**
 * A holder stops before its lease can be taken (DESIGN §5): a real process
 * holds a lease and runs a step loop guarded by `lease.valid()`; it is
 * SIGSTOPped past its TTL, another runtime takes the lease over, then the
 * holder gets SIGCONT. Its timers are all overdue at that moment and the
 * step loop's own timer may run before the heartbeat's, so only the
 * synchronous, monotonic validity check stands between it and one more
 * step. The resumed holder must not start a step, and must report the loss.
 * Both scopes: a local lease (two runtimes on one repository) and a remote
 * one (two clones of one bare remote).
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { createRuntime } from '../../lib/index.ts'
import { sandbox } from '../helpers/tmp-repos.ts'
import { RuntimeChild } from '../fixtures/child-process.ts'

const CHILD = fileURLToPath(new URL('../fixtures/lease-holder-child.ts', import.meta.url))
// Long enough that a slow first acquire (loading nodegit on a loaded machine) still leaves the lease valid on arrival.
const TTL_MS = 3_000
const BOOT_TIMEOUT_MS = 30_000
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

for (const scope of ['local', 'remote'] as const) {
  t.test(`${scope} lease: a holder resumed after SIGSTOP past its TTL runs no further step`, async (t) => {
    const box = sandbox()
    const bare = join(box.dir, 'remote.git')
    execFileSync('git', ['init', '-q', '--bare', bare])
    const holderRepo = box.repo('holder')
    // Local: the taker opens the holder's repository (one lease table); remote: its own clone.
    const takerRepo = scope === 'local' ? holderRepo : box.repo('taker')
    const resource = 'path:src/shared'
    const remote = scope === 'remote' ? [`file://${bare}`] : []
    const child = new RuntimeChild('script', '', '', {}, [CHILD, join(box.dir, 'home-holder'), holderRepo, resource, String(TTL_MS), ...remote])
    const rt = await createRuntime({ home: join(box.dir, 'home-taker'), threads: 1 })
    t.teardown(async () => {
      try { process.kill(child.pid, 'SIGCONT') } catch { /* gone */ }
      await child.kill().catch(() => undefined)
      await rt.stop()
      box.cleanup()
    })
    const granted = await child.line('granted', BOOT_TIMEOUT_MS)
    await child.waitFor('three steps', () => (child.lines.filter((l) => 'step' in l).length >= 3 ? true : undefined), 10_000)

    process.kill(child.pid, 'SIGSTOP')
    const taker = await rt.repo(takerRepo, { agent: 'taker' })
    // Waits out the holder's TTL and grace (the holder cannot renew while stopped).
    const lease = await taker.locks.acquire(resource, { ttlMs: 30_000, wait: { timeoutMs: 15_000 }, ...(scope === 'remote' ? { scope, remote: remote[0] } : {}) })
    t.ok(lease.token > (granted.granted as { token: number }).token, `the taker holds a newer token (${lease.token})`)
    await sleep(300) // the holder's timers are all long overdue now
    // Counted while the holder is still stopped, not at SIGSTOP: a step line it
    // wrote just before then may still have been in the pipe.
    const stepsBefore = child.lines.filter((l) => 'step' in l).length
    const resumedAt = Date.now()
    process.kill(child.pid, 'SIGCONT')
    const stopped = await child.line('stopped', 10_000)
    const later = child.lines.filter((l) => 'step' in l && (l.at as number) >= resumedAt)
    t.same(later, [], 'no step started after the holder resumed')
    t.equal(child.lines.filter((l) => 'step' in l).length, stepsBefore, 'the step count is where SIGSTOP left it')
    t.match(stopped, { valid: false, code: 'LEASE_LOST', aborted: true }, 'the holder learned of the loss: valid() false, signal aborted')
    t.ok(lease.valid(), 'the new holder\'s lease is valid')
    await lease.release()
    t.equal(lease.valid(), false, 'a released lease is not valid')
  })
}
