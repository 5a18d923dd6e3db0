/**
 * The event store on a real LMDB environment: random event sets (real grite
 * ids), ingested in random orders, with random duplicates, in random batch
 * sizes, must store each event once and leave projections equal to the pure
 * fold of the set; a rebuild from the log must reach the same projections.
 *
 * Seeded: STORE_SEED=<seed> replays one case; STORE_CASES=<n> runs more.
 */
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { computeEventId } from '../../../../../protocol/events/canonical.ts'
import type { CairnEvent, EventKind } from '../../../../../protocol/events/types.ts'
import { openStore } from '../../../../../lib/kernel/store/open-store.ts'
import { openRepoDbs, seqOf } from '../../../../../actors/repo-worker/store/dbs.ts'
import { CHECKPOINT_KEY, EventStore, PROJECTION_VERSION } from '../../../../../actors/repo-worker/store/event-store.ts'
import { prepareProjections, staleReason } from '../../../../../actors/repo-worker/store/rebuild.ts'
import { readAllProjections, readProjection } from '../../../../../actors/repo-worker/store/projections.ts'
import { projectIssue, type IssueProjection } from '../../../../../actors/repo-worker/projection/index.ts'
import { mulberry32 } from '../../../../helpers/prng.ts'

const BASE_SEED = 0x5707e
const CASES = Number(process.env.STORE_CASES ?? 40)
const ORDERS = 3
const ONLY = process.env.STORE_SEED === undefined ? undefined : Number(process.env.STORE_SEED)

function generate(seed: number): CairnEvent[] {
  const r = mulberry32(seed)
  const int = (n: number) => Math.floor(r() * n)
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T
  const hex = () => Array.from({ length: 4 }, () => ((r() * 2 ** 32) >>> 0).toString(16).padStart(8, '0')).join('')
  const issues = Array.from({ length: 2 + int(3) }, hex)
  const actors = Array.from({ length: 2 + int(2) }, hex)
  const kinds = (issueId: string): EventKind[] => [
    { type: 'IssueUpdated', title: pick(['x', 'y', null]), body: pick(['b', null]) },
    { type: 'CommentAdded', body: pick(['c1', 'c2']) },
    { type: 'LabelAdded', label: pick(['bug', 'p1']) },
    { type: 'LabelRemoved', label: pick(['bug', 'p1']) },
    { type: 'StateChanged', state: pick(['open', 'closed'] as const) },
    { type: 'AssigneeAdded', user: pick(['al', 'bo']) },
    { type: 'AssigneeRemoved', user: pick(['al', 'bo']) },
    { type: 'LinkAdded', url: 'https://x.example/1', note: pick([null, 'n']) },
    { type: 'DependencyAdded', target: pick(issues.filter((i) => i !== issueId)), depType: pick(['blocks', 'related_to'] as const) },
    { type: 'DependencyRemoved', target: pick(issues), depType: 'blocks' },
    { type: 'ProjectContextUpdated', key: 'k', value: pick(['1', '2']) },
  ]
  const base = 1_700_000_000_000
  const events: CairnEvent[] = []
  const make = (issueId: string, kind: EventKind): void => {
    const input = { issueId, actor: pick(actors), tsUnixMs: base + int(8), parent: null, kind }
    events.push({ ...input, eventId: computeEventId(input) })
  }
  for (const id of issues) {
    if (r() < 0.85) make(id, { type: 'IssueCreated', title: 't', body: '', labels: [pick(['bug', 'ui'])] })
    for (let i = 0, n = 3 + int(8); i < n; i++) make(id, pick(kinds(id)))
  }
  // Identical inputs make identical ids: keep the set a set.
  return [...new Map(events.map((e) => [e.eventId, e])).values()]
}

function arrival(events: CairnEvent[], r: () => number): CairnEvent[] {
  const out = [...events]
  for (let i = 0, n = Math.floor(r() * events.length / 2); i < n; i++) out.push(events[Math.floor(r() * events.length)] as CairnEvent)
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1))
    ;[out[i], out[j]] = [out[j] as CairnEvent, out[i] as CairnEvent]
  }
  return out
}

function expected(events: CairnEvent[]): Map<string, IssueProjection> {
  const byIssue = new Map<string, CairnEvent[]>()
  for (const e of events) byIssue.set(e.issueId, [...(byIssue.get(e.issueId) ?? []), e])
  const out = new Map<string, IssueProjection>()
  for (const [id, es] of byIssue) {
    if (es.some((e) => e.kind.type !== 'ProjectContextUpdated')) out.set(id, projectIssue(id, es))
  }
  return out
}

// Read back through the storage layer (a fresh store: no in-memory copies).
const stored = (store: EventStore) => new Map([...readAllProjections(store.dbs)].map(([id]) => [id, readProjection(store.dbs, id)]))

t.test(`random sets, orders, duplicates and batch sizes give the pure projections (${CASES} cases x ${ORDERS} orders)`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-store-prop-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const seeds = ONLY !== undefined ? [ONLY] : Array.from({ length: CASES }, (_, i) => BASE_SEED + i)
  let failures = 0
  for (const seed of seeds) {
    const events = generate(seed)
    const want = expected(events)
    const r = mulberry32(seed ^ 0x9e3779b9)
    for (let o = 0; o < ORDERS && failures < 3; o++) {
      const env = await openStore(join(dir, `${seed}-${o}`), 'repo')
      const dbs = openRepoDbs(env)
      const store = new EventStore(dbs)
      const order = arrival(events, r)
      let duplicates = 0
      for (let i = 0; i < order.length;) {
        const chunk = order.slice(i, i += 1 + Math.floor(r() * 5))
        const batch = await env.transaction(() => {
          const b = store.batch()
          for (const e of chunk) if (b.ingest(e, false).duplicate) duplicates++
          b.finish()
          return b
        })
        store.adopt(batch)
      }
      const ok = store.lastSeq === events.length && duplicates === order.length - events.length
        && t.strictSame(stored(store), want, `seed ${seed} order ${o}: stored projections equal the pure fold`)
      t.equal(staleReason(dbs), null, `seed ${seed} order ${o}: checkpoint current`)
      await dbs.eventMeta.remove(CHECKPOINT_KEY)
      const report = await prepareProjections(env, dbs)
      t.strictSame([report.rebuilt, report.events, stored(store)], [true, events.length, want], `seed ${seed} order ${o}: rebuild reaches the same projections`)
      if (!ok) {
        failures++
        t.fail(`seed ${seed} order ${o}: lastSeq ${store.lastSeq} for ${events.length} events, ${duplicates} duplicates reported (replay: STORE_SEED=${seed})`)
      }
      await env.close()
    }
  }
})

t.test('a schema 1 store (seq-only index, comment table) is upgraded by the rebuild its checkpoint triggers', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-store-upgrade-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const events = generate(BASE_SEED + 3)
  const want = expected(events)
  const env = await openStore(dir, 'repo')
  t.teardown(() => env.close())
  const dbs = openRepoDbs(env)
  const store = new EventStore(dbs)
  store.adopt(await env.transaction(() => {
    const b = store.batch()
    for (const e of events) b.ingest(e, false)
    b.finish()
    return b
  }))
  // Put the store back into schema 1's layout, as that Cairn left it.
  const comments = [...want.values()].flatMap((p) => p.comments.map((c, i) => ({ key: [p.id, i], c })))
  t.ok(comments.length > 0, 'the case has comments')
  await env.transaction(() => {
    for (const { key, value } of dbs.byIssue.getRange({})) void dbs.byIssue.put(key, seqOf(value))
    for (const { key, c } of comments) void dbs.issueComments.put(key as [string, number], c)
    void dbs.eventMeta.put(CHECKPOINT_KEY, { version: 2, seq: events.length })
    const metaDb = env.openDB({ name: 'meta' })
    void metaDb.put('meta', { ...(metaDb.get('meta') as object), schemaVersion: 1 })
  })

  const report = await prepareProjections(env, dbs)
  t.match(report, { rebuilt: true, reason: `projection version 2, code has ${PROJECTION_VERSION}`, events: events.length })
  t.strictSame(stored(store), want, 'the projections, comments included, are the pure fold')
  const bodies = [...dbs.byIssue.getRange({})].filter(({ value }) => typeof value !== 'number').length
  t.equal(bodies, comments.length, 'every comment\'s index entry now holds its body')
  t.equal(dbs.issueComments.getCount(), 0, 'the old comment table is emptied')
  t.match(env.openDB({ name: 'meta' }).get('meta'), { schemaVersion: 2 }, 'the store says schema 2')
  t.equal(staleReason(dbs), null, 'and its checkpoint is current')
})

t.test('an empty schema 1 store (nothing to rebuild) is marked schema 2 before anything is written to it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-store-empty-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const env = await openStore(dir, 'repo')
  t.teardown(() => env.close())
  const metaDb = env.openDB({ name: 'meta' })
  await metaDb.put('meta', { ...(metaDb.get('meta') as object), schemaVersion: 1 })
  const dbs = openRepoDbs(env)
  t.equal(staleReason(dbs), null, 'an empty store needs no rebuild')
  t.match(await prepareProjections(env, dbs), { rebuilt: false })
  t.match(metaDb.get('meta'), { schemaVersion: 2 }, 'the store says schema 2')
})
