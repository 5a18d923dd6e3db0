/**
 * One claim per issue across machines, under faults (issue 19): three
 * replicas (own clones, homes and processes) × three agents claim, work
 * and close a shared board through one coordination remote served by git
 * daemon behind a 20 ms-per-direction delay proxy. Their boards are never
 * synced during the run (stale boards). One replica is SIGSTOPped past its
 * claims' TTL and grace, then resumed; another is SIGKILLed and restarted.
 *
 * Judged from what the agents printed (one clock: one machine): every issue
 * closed exactly once, no claim by another agent between a holder's claim
 * and its close (no two live holders), no claim of an issue after its close,
 * and, after the replicas sync, every clone's board the same with every
 * issue closed.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { createRuntime } from '../../lib/index.ts'
import { sandbox } from '../helpers/tmp-repos.ts'
import { startGitDaemon } from '../helpers/git-daemon.ts'
import { startDelayProxy } from '../helpers/delay-proxy.ts'
import { RuntimeChild, type Line } from '../fixtures/child-process.ts'

const CHILD = fileURLToPath(new URL('../fixtures/claim-replica-child.ts', import.meta.url))
const ISSUES = 24
const AGENTS = 3
const TTL_MS = 2_000
/** The claim refs' grace (lib/api/claims/remote-claims.ts CLAIM_GRACE_MS): a paused holder's claim is taken after TTL + grace. */
const GRACE_MS = 2_000
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

t.test('3 replicas × 3 agents, stale boards, a SIGSTOP and a SIGKILL: one live holder per issue, nothing redone, boards converge', async (t) => {
  const box = sandbox()
  const bare = join(box.dir, 'remote.git')
  execFileSync('git', ['init', '-q', '--bare', bare])
  const daemon = await startGitDaemon(box.dir)
  const proxy = await startDelayProxy({ port: daemon.port, delayMs: 20 })
  const url = `git://127.0.0.1:${proxy.port}/remote.git`
  const children: RuntimeChild[] = []
  t.teardown(async () => {
    for (const c of children) {
      try { process.kill(c.pid, 'SIGCONT') } catch { /* gone */ }
      await c.kill().catch(() => undefined)
    }
    await proxy.stop()
    await daemon.stop()
    box.cleanup()
  })

  // The board, written once and pushed; every replica pulls it once at start.
  const seed = await createRuntime({ home: join(box.dir, 'home-seed'), threads: 1 })
  const seedRepo = await seed.repo(box.repo('seed'), { agent: 'seed' })
  for (let i = 0; i < ISSUES; i++) await seedRepo.issues.create({ title: `work ${i}` })
  await seedRepo.sync({ remote: url })
  await seed.stop()

  const clones = [0, 1, 2].map((r) => {
    const clone = box.repo(`replica-${r}`)
    execFileSync('git', ['-C', clone, 'config', 'cairn.remote', url])
    return clone
  })
  const start = (r: number): RuntimeChild => {
    const c = new RuntimeChild('script', '', '', {}, [CHILD, join(box.dir, `home-${r}`), clones[r]!, String(AGENTS), String(TTL_MS)])
    children.push(c)
    return c
  }
  const live = [0, 1, 2].map(start)
  await Promise.all(live.map((c) => c.line('ready', 60_000)))

  // Faults: replica 0 paused past its claims' TTL + grace; replica 1 killed and started again.
  await sleep(700)
  process.kill(live[0]!.pid, 'SIGSTOP')
  await sleep(300)
  await live[1]!.kill()
  const restarted = start(1)
  await sleep(TTL_MS + GRACE_MS + 1_500)
  process.kill(live[0]!.pid, 'SIGCONT')
  await Promise.all([live[0]!, live[2]!, restarted].map((c) => c.waitExit(120_000)))

  const lines: (Line & { replica: number })[] = children.flatMap((c, i) => c.lines.map((l) => ({ ...l, replica: i })))
  if (process.env.CLAIMS_DUMP) (await import('node:fs')).writeFileSync(process.env.CLAIMS_DUMP, JSON.stringify({ lines, stderr: children.map((c) => c.stderr) }, null, 1))
  const claims = lines.filter((l) => typeof l.claim === 'string') as unknown as { claim: string; agent: string; at: number }[]
  const closes = lines.filter((l) => typeof l.close === 'string') as unknown as { close: string; agent: string; at: number }[]
  const errors = lines.filter((l) => l.error !== undefined)
  t.comment(`${claims.length} claims, ${closes.length} closes, ${lines.filter((l) => l.gaveUp).length} given up, errors: ${JSON.stringify(errors.slice(0, 3))}`)
  // Whether replica 0 claimed within 700 ms of ready depends on the machine's speed: told, not asserted.
  t.comment(`the paused replica ${lines.some((l) => l.replica === 0 && typeof l.claim === 'string') ? 'had' : 'had not'} claimed before its pause`)

  const story = (issue: string): unknown[] => lines.filter((l) => l.claim === issue || l.close === issue || l.gaveUp === issue)
  const closedBy = new Map<string, { agent: string; at: number }[]>()
  for (const c of closes) closedBy.set(c.close, [...(closedBy.get(c.close) ?? []), c])
  t.same([...closedBy].filter(([, v]) => v.length > 1).map(([issue]) => story(issue)), [], 'no issue was closed by two holders')
  const everyIssue = new Set(lines.flatMap((l) => [l.claim, l.gaveUp].filter((x): x is string => typeof x === 'string')))
  // An agent killed between its done record and its local close closes nothing itself: another board closes the issue on
  // the remote's word (claim-record.ts adoptable), seen below on the converged boards.
  const unclosed = [...everyIssue].filter((id) => !closedBy.has(id))
  t.comment(`${closedBy.size} issues closed by their holders, ${unclosed.length} claimed and closed by none of them`)
  const twoLive = [...closedBy].filter(([issue, [close]]) => {
    const mine = claims.filter((c) => c.claim === issue && c.agent === close!.agent && c.at <= close!.at).sort((a, b) => b.at - a.at)[0]
    return mine === undefined || claims.some((c) => c.claim === issue && c.agent !== close!.agent && c.at > mine.at && c.at < close!.at)
  })
  t.same(twoLive.map(([issue]) => story(issue)), [], '0 issues held by two live holders (no other claim between a holder\'s claim and its close)')
  const redone = claims.filter((c) => (closedBy.get(c.claim)?.[0]?.at ?? Infinity) < c.at)
  t.same(redone, [], '0 closed issues claimed again')

  // Converge: each replica syncs twice around, then every board is the same.
  const rts = await Promise.all(clones.map((_, r) => createRuntime({ home: join(box.dir, `home-${r}`), threads: 1 })))
  t.teardown(() => Promise.all(rts.map((rt) => rt.stop())))
  const repos = await Promise.all(rts.map((rt, r) => rt.repo(clones[r]!, { agent: `check-${r}` })))
  for (let round = 0; round < 2; round++) for (const repo of repos) await repo.sync({ remote: url })
  const boards = await Promise.all(repos.map(async (repo) => (await repo.issues.list()).map((i) => `${i.id} ${i.state}`).sort()))
  t.equal(boards[0]!.length, ISSUES)
  t.same(boards[0]!.filter((l) => !l.endsWith(' closed')), [], 'every issue is closed: lapsed claims were taken over, unfinished closes adopted')
  t.same(boards[1], boards[0], 'replica 1 converged')
  t.same(boards[2], boards[0], 'replica 2 converged')
})
