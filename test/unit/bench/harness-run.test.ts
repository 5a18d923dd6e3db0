/**
 * The harness's agent loop and report on a fake target: in-memory sessions,
 * so schedules, substitutions, bounds and the report's shape are checked
 * without threads, LMDB or git (the integration test runs the real thing).
 */
import t from 'tap'
import { CairnError } from '../../../protocol/errors.ts'
import { mulberry32 } from '../../helpers/prng.ts'
import { Board, step, type AgentState } from '../../../bench/harness/agent.ts'
import { MIXES, type OpKind } from '../../../bench/harness/mix.ts'
import { runReport, runResults, timelineOf } from '../../../bench/harness/run-report.ts'
import { runScenario, type RunOptions } from '../../../bench/harness/scenario.ts'
import { ALL_OPS, type HeldLease, type Session, type Target } from '../../../bench/harness/target.ts'

interface Fake { calls: string[]; target: Target }

/** Sessions that answer after `delayMs` (0: next macrotask); comments fail NOT_FOUND every `failEvery`th call. */
function fakeTarget(opts: { delayMs?: number; failEvery?: number } = {}): Fake {
  const calls: string[] = []
  let n = 0
  const later = <T>(what: string, value: T): Promise<T> => new Promise((resolve, reject) => {
    calls.push(what)
    const fail = what === 'comment' && opts.failEvery !== undefined && ++n % opts.failEvery === 0
    setTimeout(() => (fail ? reject(new CairnError('NOT_FOUND', 'no such issue')) : resolve(value)), opts.delayMs ?? 0)
  })
  let ids = 0
  const lease = (resource: string): HeldLease => ({ resource, renew: () => later('renew', undefined), release: () => later('release', undefined) })
  const session = (agent: string): Session => ({
    agent,
    create: () => later('create', { id: `issue-${ids++}` }),
    comment: () => later('comment', {}),
    label: (_id, change) => later(change.remove ? 'unlabel' : 'label', {}),
    update: () => later('update', {}),
    close: () => later('close', {}),
    claimNext: async () => later('claim', { issueId: 'x', lease: lease('issue:x') }),
    acquire: async (resource) => later('acquire', lease(resource)),
    sync: () => later('sync', {}),
  })
  return {
    calls,
    target: { mode: 'embedded', supports: ALL_OPS, missing: {}, serverPid: null, session: async (a) => session(a), close: async () => {} },
  }
}

const base: RunOptions = { scenario: 'burst', agents: 4, ops: 200, mix: MIXES.agents, seed: 1, rate: 0, warmupOps: 10, maxMs: 10_000 }

t.test('burst: exactly the budget, every agent, failures by code', async (t) => {
  const { target, calls } = fakeTarget({ failEvery: 5 })
  const out = await runScenario(target, base)
  t.equal(out.metrics.completed, 200)
  t.equal(out.agentsStarted, 4)
  t.equal(out.stoppedByTime, false)
  const comment = out.metrics.ops.get('comment')!
  t.ok(comment.failed > 0)
  t.same([...comment.errors.keys()], ['NOT_FOUND'])
  t.equal(calls.filter((c) => c === 'create').length >= 4 + 1, true, 'seeded one issue per agent, then the mix')
  t.ok(out.rss.peakMiB > 0 && out.cpu.user >= 0)
})

t.test('the same seed makes the same calls', async (t) => {
  const a = fakeTarget()
  const b = fakeTarget()
  await runScenario(a.target, { ...base, agents: 1 })
  await runScenario(b.target, { ...base, agents: 1 })
  t.same(a.calls, b.calls)
})

t.test('ramp: agents join as the first half completes', async (t) => {
  const { target } = fakeTarget()
  const out = await runScenario(target, { ...base, scenario: 'ramp', agents: 5, ops: 400 })
  t.equal(out.metrics.completed, 400)
  t.equal(out.agentsStarted, 5)
})

t.test('sustained: offered at the rate, timed from the due time', async (t) => {
  const { target } = fakeTarget()
  const out = await runScenario(target, { ...base, scenario: 'sustained', ops: 40, rate: 400 })
  t.equal(out.metrics.completed, 40)
  t.ok(out.wallMs >= 90, `40 ops at 400/s take about 100 ms (${out.wallMs.toFixed(0)})`)
  await t.rejects(runScenario(target, { ...base, scenario: 'sustained', rate: 0 }), RangeError)
})

t.test('the time bound stops a slow run', async (t) => {
  const { target } = fakeTarget({ delayMs: 20 })
  const out = await runScenario(target, { ...base, agents: 2, ops: 10_000, warmupOps: 0, maxMs: 100 })
  t.equal(out.stoppedByTime, true)
  t.ok(out.metrics.completed < 100)
})

t.test('substitutions when the board or the agent has nothing to act on', async (t) => {
  const { target } = fakeTarget()
  const agent: AgentState = { session: await target.session('a'), rand: mulberry32(1), leases: [], serial: 0 }
  const board = new Board()
  for (const want of ['comment', 'label', 'unlabel', 'update', 'close'] as OpKind[]) t.equal(step(agent, board, want).kind, 'create', `${want} on an empty board`)
  for (const want of ['renew', 'release'] as OpKind[]) t.equal(step(agent, board, want).kind, 'acquire', `${want} without a lease`)
  board.add('i1', [])
  t.equal(step(agent, board, 'unlabel').kind, 'label', 'unlabel of an issue without labels')
  t.equal(step(agent, board, 'unlabel').kind, 'unlabel', 'then it has one')
  const closing = step(agent, board, 'close')
  t.equal(closing.kind, 'close')
  t.same(board.open, [], 'closed issues leave the board at once, so no two agents close one')
  await closing.done
})

t.test('the run report: shape, ratios, timeline', async (t) => {
  const { target } = fakeTarget({ failEvery: 4 })
  const out = await runScenario(target, base)
  const baselines = [
    { name: 'raw.lmdb.durable-put', group: 'storage', unit: 'ops/s', value: 1000 },
    { name: 'raw.port.round-trip', group: 'messaging', unit: 'ms', value: 0.02, p50: 0.02, p99: 0.05 },
  ]
  const run = runReport({
    id: 'embedded/burst', mode: 'embedded', scenario: 'burst', mix: base.mix, dropped: [], agents: 4, threads: 1, seed: 1,
    opsPlanned: 200, offeredRate: null, warmupOps: 10, server: null,
  }, out, baselines)
  t.equal(run.opsDone, 200)
  t.equal(run.ok + run.failed, 200)
  t.ok(run.failed > 0)
  t.equal(run.ratios.lmdbDurable, run.throughput / 1000)
  t.equal(run.ratios.gitCommit, null, 'a baseline missing from the run gives null, not a number')
  t.ok(run.ratios.transportRtt !== null && run.ratios.transportRtt > 0)
  for (const [kind, op] of Object.entries(run.ops)) {
    t.ok(op.latencyMs && op.latencyMs.count === op.ok + op.failed, `${kind}: every call timed`)
    t.equal(op.cdf.length, 19)
    t.type(op.hdr, 'string')
  }
  const tl = timelineOf(out)
  t.equal(tl.t.length, tl.total.length)
  t.equal(tl.rssMiB.length, tl.total.length)
  for (const series of Object.values(tl.rate)) t.equal(series.length, tl.total.length)
  const results = runResults(run)
  t.equal(results[0]!.name, 'embedded/burst.throughput')
  t.equal(results[0]!.baseline, 'raw.lmdb.durable-put')
  t.ok(results.slice(1).every((r) => r.unit === 'ms' && r.baseline === 'raw.port.round-trip'))
  t.same(JSON.parse(JSON.stringify(run)), run, 'plain JSON data')
})
