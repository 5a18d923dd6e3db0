/**
 * Property: three replicas (three runtimes with their own homes, three git
 * clones, three actors) make random concurrent edits and sync through one
 * bare remote in random orders; once every replica has synced twice in a
 * fixed order, all of them hold exactly the acknowledged events and identical
 * projections, and their refs/cairn/wal/* equal the remote's.
 *
 * Each seed gets fresh clones and a fresh remote. A round: every replica
 * issues a few random writes at once (create, comment, retitle, label add or
 * remove, assignee add or remove, close, reopen, dependency add or remove
 * between early issues it knows, so replicas race into cycles),
 * while (or after, by a coin) a random sequence of sync steps runs: one
 * replica, two different replicas at once, or the same replica twice at once
 * (the second call joins the run: the same report).
 *
 * Replay one seed with CAIRN_PROP_SEED=<seed>.
 */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import t from 'tap'
import { createRuntime, type Repo, type Runtime } from '../../../../lib/index.ts'
import type { SyncReport } from '../../../../lib/api/sync.ts'
import { mulberry32 } from '../../../helpers/prng.ts'
import { sandbox } from '../../../helpers/tmp-repos.ts'

const SEEDS = process.env.CAIRN_PROP_SEED ? [Number(process.env.CAIRN_PROP_SEED)] : [1, 7, 42, 2024, 31337, 90210]
const REPLICAS = 3
const ROUNDS = 8
const SYNC_TIMEOUT_MS = 60_000
const AGENTS = ['alice', 'bob', 'carol']
const LABELS = ['bug', 'ui', 'p1', 'p2']
const USERS = ['ann', 'ben']
const DEP_TYPES = ['blocks', 'depends_on', 'related_to'] as const
/** Refusals a replica may legitimately answer for a dependency between issues it knows (a merged cycle, a stale target). */
const TOLERATED = new Set(['CYCLE', 'NOT_FOUND'])

const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim()
const walRefs = (cwd: string): string => git(cwd, 'for-each-ref', '--format=%(refname) %(objectname)', 'refs/cairn/wal/')

interface Replica { i: number; repo: Repo; path: string; known: string[] }

interface Tally { writes: number; refused: Map<string, number>; unexpected: string[]; syncs: number; joins: number; pairs: number; overlapped: number }

/** Every event id in a replica's local log, in seq order (bounded paging). */
async function logIds(repo: Repo): Promise<string[]> {
  const ids: string[] = []
  for (let fromSeq = 1, page = 0; page < 1000; page++) {
    const batch = await repo.events.read({ fromSeq, limit: 1000 })
    if (batch.length === 0) break
    for (const e of batch) ids.push(e.event.eventId)
    fromSeq = batch[batch.length - 1]!.seq + 1
  }
  return ids
}

/** The full projection of every issue, by id. */
async function board(repo: Repo): Promise<unknown[]> {
  const list = await repo.issues.list({ state: 'all' })
  const ids = list.map((i) => i.id).sort()
  return Promise.all(ids.map((id) => repo.issues.show(id)))
}

t.test('three replicas, random concurrent edits, random sync orders: identical projections everywhere', async (t) => {
  const sb = sandbox()
  const runtimes: Runtime[] = []
  t.teardown(async () => {
    await Promise.all(runtimes.map((rt) => rt.stop().catch(() => undefined)))
    sb.cleanup()
  })
  for (let i = 0; i < REPLICAS; i++) runtimes.push(await createRuntime({ threads: 1, home: join(sb.dir, `home-${i}`) }))

  for (const seed of SEEDS) {
    await t.test(`seed ${seed}`, async (t) => {
      const rand = mulberry32(seed)
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!
      const remotePath = join(sb.dir, `remote-${seed}.git`)
      execFileSync('git', ['init', '-q', '--bare', remotePath])
      const remote = `file://${remotePath}`
      const replicas: Replica[] = []
      for (let i = 0; i < REPLICAS; i++) {
        const path = sb.repo(`clone-${seed}-${i}`)
        replicas.push({ i, path, repo: await runtimes[i]!.repo(path, { agent: AGENTS[i]! }), known: [] })
      }
      t.equal(new Set(replicas.map((r) => r.repo.actor)).size, REPLICAS, 'three distinct actors')
      const acked = new Set<string>()
      const tally: Tally = { writes: 0, refused: new Map(), unexpected: [], syncs: 0, joins: 0, pairs: 0, overlapped: 0 }
      const reports: SyncReport[] = []
      let counter = 0

      /** Draws one write now (so the PRNG is consumed in a fixed order) and returns it running. */
      const randomWrite = (rep: Replica): Promise<void> => {
        const issues = rep.repo.issues
        const n = counter++
        const r = rand()
        let op: string
        let run: () => Promise<string[]>
        if (rep.known.length < 2 || r < 0.2) {
          op = 'create'
          const labels = rand() < 0.5 ? [pick(LABELS)] : []
          run = async () => {
            const p = await issues.create({ title: `s${seed} r${rep.i} #${n}`, labels })
            rep.known.push(p.id)
            return [p.lastEventId!]
          }
        } else {
          const id = pick(rep.known)
          const ids = async (w: Promise<{ eventIds: string[] }>): Promise<string[]> => (await w).eventIds
          if (r < 0.4) [op, run] = ['comment', () => ids(issues.comment(id, `comment ${n} from r${rep.i}`))]
          else if (r < 0.5) [op, run] = ['update', () => ids(issues.update(id, { title: `retitled ${n} by r${rep.i}` }))]
          else if (r < 0.58) [op, run] = ['label+', () => ids(issues.label(id, { add: [pick(LABELS)] }))]
          else if (r < 0.64) [op, run] = ['label-', () => ids(issues.label(id, { remove: [pick(LABELS)] }))]
          else if (r < 0.7) [op, run] = ['close', () => ids(issues.close(id))]
          else if (r < 0.75) [op, run] = ['reopen', () => ids(issues.reopen(id))]
          else if (r < 0.79) [op, run] = ['assign', () => ids(issues.assign(id, rand() < 0.7 ? { add: [pick(USERS)] } : { remove: [pick(USERS)] }))]
          else {
            // Dependencies among a few early issues, so replicas race into cycles that only merging reveals.
            const hot = rep.known.slice(0, 4)
            const from = pick(hot)
            const target = pick(hot.filter((k) => k !== from))
            const type = pick(DEP_TYPES)
            const remove = rand() < 0.25
            op = remove ? 'depend-' : 'depend+'
            run = () => ids(issues.depend(from, { target, type, remove }))
          }
        }
        return run().then(
          (eventIds) => {
            tally.writes++
            for (const e of eventIds) acked.add(e)
          },
          (err: { code?: string; message?: string }) => {
            const code = err?.code ?? 'none'
            if (op.startsWith('depend') && TOLERATED.has(code)) tally.refused.set(code, (tally.refused.get(code) ?? 0) + 1)
            else tally.unexpected.push(`${op} on r${rep.i}: ${code} ${err?.message}`)
          },
        )
      }

      const sync = async (rep: Replica): Promise<SyncReport> => {
        const report = await rep.repo.sync({ remote, timeoutMs: SYNC_TIMEOUT_MS })
        tally.syncs++
        reports.push(report)
        return report
      }

      /** A random sequence of sync steps: one replica, two replicas at once, or one replica twice at once (joined). */
      const syncSteps = async (steps: number[][]): Promise<void> => {
        for (const step of steps) {
          if (step.length === 2 && step[0] === step[1]) {
            const rep = replicas[step[0]!]!
            const before = (await rep.repo.syncStatus()).runs
            const [a, b] = await Promise.all([rep.repo.sync({ remote, timeoutMs: SYNC_TIMEOUT_MS }), rep.repo.sync({ remote, timeoutMs: SYNC_TIMEOUT_MS })])
            const runs = (await rep.repo.syncStatus()).runs - before
            tally.joins++
            tally.syncs++
            reports.push(a)
            t.same({ runs, report: b }, { runs: 1, report: a }, `r${rep.i}: two sync() calls at once joined one run (same report)`)
          } else {
            if (step.length === 2) tally.pairs++
            await Promise.all(step.map((k) => sync(replicas[k]!)))
          }
        }
      }

      for (let round = 0; round < ROUNDS; round++) {
        for (const rep of replicas) {
          const seen = (await rep.repo.issues.list({ state: 'all' })).map((i) => i.id)
          // Earliest created first, so the replicas' early (hot) issues agree once they have synced.
          rep.known = [...new Set([...seen, ...rep.known])]
        }
        const steps: number[][] = []
        for (let s = 0, count = 2 + Math.floor(rand() * 3); s < count; s++) {
          const a = Math.floor(rand() * REPLICAS)
          const kind = rand()
          if (kind < 0.5) steps.push([a])
          else if (kind < 0.8) steps.push([a, (a + 1 + Math.floor(rand() * (REPLICAS - 1))) % REPLICAS])
          else steps.push([a, a])
        }
        // Every seed exercises a joined call at least once.
        if (round === 0) {
          const a = Math.floor(rand() * REPLICAS)
          steps.push([a, a])
        }
        const overlap = rand() < 0.5
        const writes = replicas.flatMap((rep) => Array.from({ length: 2 + Math.floor(rand() * 6) }, () => randomWrite(rep)))
        if (overlap) {
          tally.overlapped++
          await Promise.all([Promise.all(writes), syncSteps(steps)])
        } else {
          await Promise.all(writes)
          await syncSteps(steps)
        }
      }

      // Quiescence: every replica syncs twice, in a fixed order (bounded: 2 × 3 runs).
      for (let pass = 0; pass < 2; pass++) for (const rep of replicas) await sync(rep)

      t.comment(`seed ${seed}: ${tally.writes} writes (${acked.size} events), ${tally.syncs} syncs (${tally.pairs} pairs, ${tally.joins} joins), ` +
        `${tally.overlapped}/${ROUNDS} rounds synced during writes, refused ${JSON.stringify(Object.fromEntries(tally.refused))}`)
      t.same(tally.unexpected, [], 'no write failed except tolerated dependency refusals')
      t.ok(acked.size >= 30, `a meaningful history was written (${acked.size} events)`)
      t.same(reports.flatMap((r) => r.diverged), [], 'no sync ever reported a diverged ref')
      t.same(reports.flatMap((r) => r.refs.filter((x) => x.status === 'rejected' || x.status === 'diverged').map((x) => x.ref)), [],
        'no ref was ever rejected')

      const want = [...acked].sort()
      const boards: unknown[][] = []
      for (const rep of replicas) {
        const ids = await logIds(rep.repo)
        const stats = await rep.repo.events.stats()
        t.equal(new Set(ids).size, ids.length, `r${rep.i}: no event is logged twice`)
        t.same([...ids].sort(), want, `r${rep.i}: the log holds exactly the ${want.length} acknowledged events`)
        t.same([stats.events, stats.outbox], [want.length, 0], `r${rep.i}: stats count every event, outbox empty`)
        boards.push(await board(rep.repo))
      }
      t.ok(boards[0]!.length > 0, `${boards[0]!.length} issues on the board`)
      const views = await Promise.all(replicas.map(async (rep) => ({ topo: await rep.repo.issues.topo(), ready: await rep.repo.issues.ready() })))
      for (let i = 1; i < REPLICAS; i++) {
        t.same(views[i], views[0], `r${i}: topo order, merged cycles (${views[0]!.topo.cycles.length}) and ready list equal r0's`)
      }
      for (let i = 1; i < REPLICAS; i++) t.same(boards[i], boards[0], `r${i}: every issue's full projection equals r0's`)
      t.same(boards[0]!.filter((p) => (p as { incomplete: boolean }).incomplete), [], 'no issue is left incomplete')

      const remoteRefs = walRefs(remotePath)
      t.equal(remoteRefs.split('\n').length, REPLICAS, 'the remote holds one WAL ref per actor')
      for (const rep of replicas) t.equal(walRefs(rep.path), remoteRefs, `r${rep.i}: refs/cairn/wal/* equal the remote's (git CLI)`)
    })
  }
})
