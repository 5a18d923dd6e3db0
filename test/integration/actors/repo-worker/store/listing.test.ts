/**
 * The listing index (actors/repo-worker/store/listing*.ts) through a real
 * runtime: on a random board of labels, assignees, closes, reopens and
 * dependencies, `issues.list`, `issues.ready` and `issues.topo` answer
 * exactly what the projections themselves say (graph.ts's ready and topo
 * over every shown issue), page by page with `limit` and `after`; a rebuilt
 * index answers the same; bad paging arguments are refused.
 */
import t from 'tap'
import { join } from 'node:path'
import { open } from 'lmdb'
import { OPEN_OPTIONS } from '../../../../../lib/kernel/store/open-store.ts'
import { createRuntime, type Repo } from '../../../../../lib/index.ts'
import type { IssueProjection } from '../../../../../protocol/results.ts'
import { ready, topo } from '../../../../../actors/repo-worker/projection/index.ts'
import { mulberry32 } from '../../../../helpers/prng.ts'
import { sandbox } from '../../../../helpers/tmp-repos.ts'
import { rejectsCoded, type Test } from '../../../../helpers/coded-error.ts'

const LABELS = ['bug', 'ui', 'db']
const PEOPLE = ['ann', 'bo']

/** Builds a random board of `n` issues from `seed`. */
async function randomBoard(repo: Repo, seed: number, n: number): Promise<void> {
  const rnd = mulberry32(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T
  const ids: string[] = []
  for (let i = 0; i < n; i++) {
    const labels = LABELS.filter(() => rnd() < 0.4)
    ids.push((await repo.issues.create({ title: `issue ${i}`, labels })).id)
    if (i > 0 && rnd() < 0.5) {
      const type = pick(['depends_on', 'blocks', 'related_to'] as const)
      await repo.issues.depend(ids[i] as string, { target: pick(ids.slice(0, i)), type }).catch((err: { code?: string }) => {
        if (err.code !== 'CYCLE') throw err
      })
    }
  }
  for (const id of ids) {
    const r = rnd()
    if (r < 0.3) await repo.issues.close(id)
    else if (r < 0.4) await repo.issues.assign(id, { add: [pick(PEOPLE)] })
    else if (r < 0.5) await repo.issues.label(id, { add: [pick(LABELS)], remove: [pick(LABELS)] })
    else if (r < 0.55) await repo.issues.comment(id, 'a comment counts, never moves')
  }
  // Reopen a few, and close a prerequisite or two, so readiness changes after the fact.
  for (const id of ids.slice(0, 5)) if (rnd() < 0.5) await repo.issues.reopen(id)
  for (const id of ids.slice(5, 10)) if (rnd() < 0.5) await repo.issues.close(id)
}

const order = (a: IssueProjection, b: IssueProjection): number =>
  ((a.createdAt as number) - (b.createdAt as number)) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

async function everything(repo: Repo): Promise<IssueProjection[]> {
  const out: IssueProjection[] = []
  for (const s of await repo.issues.list()) out.push(await repo.issues.show(s.id))
  return out
}

/** Every page of a listing, `size` at a time, through the cursor. */
async function paged(list: (page: { limit: number; after?: string }) => Promise<{ id: string }[]>, size: number): Promise<string[]> {
  const out: string[] = []
  for (let pages = 0; pages < 1000; pages++) {
    const page = await list({ limit: size, ...(out.length > 0 ? { after: out.at(-1) } : {}) })
    out.push(...page.map((s) => s.id))
    if (page.length < size) return out
  }
  throw new Error('paging did not end')
}

async function checkAgainstProjections(t: Test, repo: Repo, label: string): Promise<void> {
  const all = await everything(repo)
  t.ok(all.length > 0, `${label}: the board has issues`)
  const ids = (ps: IssueProjection[]) => ps.map((p) => p.id)
  for (const state of ['open', 'closed', 'all'] as const) {
    const want = all.filter((p) => state === 'all' || p.state === state).sort(order)
    t.same((await repo.issues.list({ state })).map((s) => s.id), ids(want), `${label}: list ${state}`)
    t.same(await paged((pg) => repo.issues.list({ state, ...pg }), 4), ids(want), `${label}: list ${state}, pages of 4`)
    for (const l of LABELS) {
      t.same((await repo.issues.list({ state, label: l })).map((s) => s.id), ids(want.filter((p) => p.labels.includes(l))), `${label}: list ${state} label ${l}`)
    }
    for (const a of PEOPLE) {
      t.same((await repo.issues.list({ state, assignee: a, label: 'bug' })).map((s) => s.id),
        ids(want.filter((p) => p.assignees.includes(a) && p.labels.includes('bug'))), `${label}: list ${state} assignee ${a} label bug`)
    }
  }
  const summaries = await repo.issues.list({ state: 'all' })
  for (const s of summaries) {
    const p = all.find((x) => x.id === s.id) as IssueProjection
    t.same(s, { id: p.id, title: p.title, state: p.state, labels: p.labels, assignees: p.assignees, dependencies: p.dependencies,
      comments: p.comments.length, createdAt: p.createdAt, createdBy: p.createdBy, updatedAt: p.updatedAt }, `${label}: summary of ${s.id.slice(0, 6)}`)
  }
  const wantReady = ids(ready(all))
  t.ok(wantReady.length > 0 && wantReady.length < all.length, `${label}: some issues ready, some not (${wantReady.length}/${all.length})`)
  t.same((await repo.issues.ready()).map((s) => s.id), wantReady, `${label}: ready`)
  t.same(await paged((pg) => repo.issues.ready(pg), 3), wantReady, `${label}: ready, pages of 3`)
  t.same((await repo.issues.ready({ label: 'ui' })).map((s) => s.id), ids(ready(all).filter((p) => p.labels.includes('ui'))), `${label}: ready label ui`)
  const want = topo(all)
  const got = await repo.issues.topo()
  t.same(got.order.map((s) => s.id), ids(want.order), `${label}: topo order`)
  t.same(got.cycles, want.cycles, `${label}: topo cycles`)
}

t.test('list, ready and topo from the index answer what the projections say, page by page, and again after a rebuild', async (t) => {
  const box = sandbox()
  t.teardown(() => box.cleanup())
  const path = box.repo('listing')
  let rt = await createRuntime({ home: box.home, threads: 1 })
  try {
    const repo = await rt.repo(path, { agent: 'lister' })
    await randomBoard(repo, 22, 40)
    await checkAgainstProjections(t, repo, 'live')
    // A read after an acknowledged write sees it: the listing index is written with the write.
    const fresh = await repo.issues.create({ title: 'just now', labels: ['ui'] })
    t.equal((await repo.issues.list({ state: 'open' })).at(-1)?.id, fresh.id, 'a new issue is listed as soon as its create is acknowledged')
    t.equal((await repo.issues.ready({ label: 'ui' })).at(-1)?.id, fresh.id, 'and ready')
    await repo.issues.close(fresh.id)
    t.notOk((await repo.issues.list({ state: 'open' })).some((s) => s.id === fresh.id), 'closed: gone from the open list at once')
    t.equal((await repo.issues.list({ state: 'closed' })).at(-1)?.id, fresh.id, 'and in the closed one')
  } finally {
    await rt.stop()
  }
  // Drop the checkpoint: the next open rebuilds projections and the listing index from the log.
  const env = open({ path: join(path, '.git', 'cairn'), ...OPEN_OPTIONS })
  const listing = env.openDB({ name: 'issue-listing' })
  t.ok(listing.getKeysCount() > 0, 'the store holds a listing index')
  await env.openDB({ name: 'event-meta' }).remove('projection')
  await listing.clearAsync()
  await env.close()
  rt = await createRuntime({ home: box.home, threads: 1 })
  try {
    await checkAgainstProjections(t, await rt.repo(path, { agent: 'lister' }), 'rebuilt')
  } finally {
    await rt.stop()
  }
})

t.test('depend and claim check the graph through the index: no cycle gets in, pipelined or not, and a blocked issue is not claimed', async (t) => {
  const box = sandbox()
  const rt = await createRuntime({ home: box.home, threads: 1 })
  t.teardown(async () => { await rt.stop(); box.cleanup() })
  const repo = await rt.repo(box.repo('cycles'), { agent: 'c' })
  const ids: string[] = []
  for (let i = 0; i < 12; i++) ids.push((await repo.issues.create({ title: `n${i}` })).id)
  const [a, b, c] = ids as [string, string, string]
  await repo.issues.depend(a, { target: b, type: 'depends_on' })
  await repo.issues.depend(b, { target: c, type: 'depends_on' })
  await rejectsCoded(t, () => repo.issues.depend(c, { target: a, type: 'depends_on' }), 'CYCLE', null, 'a cycle through two stored edges is refused')
  await rejectsCoded(t, () => repo.issues.depend(a, { target: c, type: 'blocks' }), 'CYCLE', null, 'and the same edge declared the other way round')
  // Pipelined: each depend runs while the ones before it are still in flight.
  const rnd = mulberry32(7)
  let refused = 0
  for (let round = 0; round < 8; round++) {
    const calls = Array.from({ length: 6 }, () => {
      const x = ids[Math.floor(rnd() * ids.length)] as string
      const y = ids[Math.floor(rnd() * ids.length)] as string
      return repo.issues.depend(x, { target: y, type: rnd() < 0.5 ? 'depends_on' : 'blocks' }).then(() => 0, (err: { code?: string }) => {
        if (err.code !== 'CYCLE' && err.code !== 'INVALID_ARGUMENT') throw err
        return 1
      })
    })
    for (const r of await Promise.all(calls)) refused += r
  }
  t.ok(refused > 0, `some pipelined depends were refused (${refused})`)
  const all = await everything(repo)
  t.same(topo(all).cycles, [], 'and still no cycle among the issues')
  // Claim: a blocked issue is refused, an unblocked one assigned.
  const readyIds = new Set(ready(all).map((p) => p.id))
  const blocked = all.find((p) => !readyIds.has(p.id)) as IssueProjection
  t.ok(blocked, 'some issue is blocked')
  const claimed = await repo.issues.claimNext({ ttlMs: 60_000, autoRenew: false })
  t.ok(claimed !== null && readyIds.has(claimed.issue.id), 'claimNext takes a ready issue')
  t.equal(claimed?.issue.id, ready(all)[0]?.id, 'the earliest ready one')
  await claimed?.lease.release()
})

t.test('paging arguments are checked', async (t) => {
  const box = sandbox()
  const rt = await createRuntime({ home: box.home, threads: 1 })
  t.teardown(async () => { await rt.stop(); box.cleanup() })
  const repo = await rt.repo(box.repo('paging'), { agent: 'p' })
  const a = await repo.issues.create({ title: 'a' })
  await repo.issues.create({ title: 'b' })
  t.same((await repo.issues.list({ limit: 1 })).map((s) => s.title), ['a'], 'limit 1')
  t.same((await repo.issues.list({ after: a.id })).map((s) => s.title), ['b'], 'after the first')
  t.same(await repo.issues.ready({ after: a.id, limit: 5 }).then((r) => r.map((s) => s.title)), ['b'], 'ready after the first')
  for (const bad of [0, -1, 1.5, 'x', Number.MAX_SAFE_INTEGER + 1]) {
    await rejectsCoded(t, () => repo.issues.list({ limit: bad as number }), 'INVALID_ARGUMENT', 'limit', `list limit ${String(bad)}`)
    await rejectsCoded(t, () => repo.issues.ready({ limit: bad as number }), 'INVALID_ARGUMENT', 'limit', `ready limit ${String(bad)}`)
  }
  for (const bad of [a.id.slice(0, 8), a.id.toUpperCase(), 42, 'f'.repeat(32)]) {
    await rejectsCoded(t, () => repo.issues.list({ after: bad as string }), 'INVALID_ARGUMENT', 'after', `list after ${String(bad).slice(0, 12)}`)
  }
})
