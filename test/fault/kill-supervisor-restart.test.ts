/**
 * SIGKILL the whole runtime process (supervisor and its threads); the next
 * boot of the same home names the killed process as a crashed session, once.
 */
import t from 'tap'
import { childTracker, scratchRepo, type Reconciliation } from '../fixtures/child-process.ts'

const BOOT_TIMEOUT_MS = 30_000

t.test('a SIGKILLed runtime is reported crashed by the next boot', async (t) => {
  const scratch = scratchRepo('cairn-fault-supervisor-')
  const kids = childTracker(t, scratch.cleanup)
  const { home, repo } = scratch

  const writer = kids.spawn('write', home, repo)
  const ready = await writer.line('ready', BOOT_TIMEOUT_MS)
  t.same((ready.reconciliation as Reconciliation).previousSessions, [], 'a fresh home has no previous sessions')
  await writer.line('acked', BOOT_TIMEOUT_MS)
  const exit = await writer.kill()
  t.equal(exit.signal, 'SIGKILL', `writer killed by SIGKILL (pid ${writer.pid})`)

  const v1 = kids.spawn('verify', home, repo)
  const after = await v1.line('records', BOOT_TIMEOUT_MS)
  t.same(await v1.waitExit(BOOT_TIMEOUT_MS), { code: 0, signal: null }, 'verify exits 0')
  const rec = after.reconciliation as Reconciliation
  t.same(rec.previousSessions.map((s) => ({ pid: s.pid, outcome: s.outcome })), [{ pid: writer.pid, outcome: 'crashed' }],
    'previousSessions lists exactly the killed pid, crashed')
  t.not(after.pid, writer.pid, 'the verifying process is a different process')
  t.equal(rec.repos.length, 1, 'the crashed session\'s repository was reopened during boot reconciliation')
  t.ok((after.records as unknown[]).length >= 1, 'the acknowledged append is there')

  // The crashed session is consumed: a second boot after a clean stop sees none.
  const v2 = kids.spawn('verify', home, repo)
  const again = await v2.line('records', BOOT_TIMEOUT_MS)
  t.same(await v2.waitExit(BOOT_TIMEOUT_MS), { code: 0, signal: null }, 'second verify exits 0')
  t.same((again.reconciliation as Reconciliation).previousSessions, [], 'the crash is reported once, not again after a clean stop')
})
