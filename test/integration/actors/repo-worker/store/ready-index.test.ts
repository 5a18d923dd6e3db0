/**
 * The writer's ready set (what claimNext picks from) is built from the
 * listing index plus the writes in flight, not from every projection: on
 * random boards, part committed and part in flight, it holds exactly the
 * issues graph.ts's rule calls ready over the writer's full view, in ready
 * order, and it stays so as later batches are adopted.
 */
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openStore } from '../../../../../lib/kernel/store/open-store.ts'
import { openRepoDbs } from '../../../../../actors/repo-worker/store/dbs.ts'
import { EventStore } from '../../../../../actors/repo-worker/store/event-store.ts'
import { writeAll, type RecordedWrite } from '../../../../../actors/repo-worker/store/batch.ts'
import { ready } from '../../../../../actors/repo-worker/projection/index.ts'
import type { CairnEvent } from '../../../../../protocol/events/types.ts'
import { ACTOR_1, created, ev, mulberry32 } from '../../../../unit/actors/repo-worker/projection/fixtures/events.ts'

const ISSUES = 40
const issueId = (i: number): string => i.toString(16).padStart(32, '0')

/** A random event on a random issue: creations, state changes, dependencies both ways (some to unknown issues), comments. */
function randomEvent(random: () => number, ts: number): CairnEvent {
  const id = issueId(Math.floor(random() * ISSUES))
  // Targets range past the board: a prerequisite nobody created blocks.
  const target = issueId(Math.floor(random() * (ISSUES + 4)))
  const depType = random() < 0.5 ? 'depends_on' as const : 'blocks' as const
  const r = random()
  if (r < 0.3) return created(id, ts, `issue ${id.slice(-2)}`)
  if (r < 0.5) return ev(id, ts, ACTOR_1, { type: 'StateChanged', state: random() < 0.5 ? 'closed' : 'open' })
  if (r < 0.75) return ev(id, ts, ACTOR_1, { type: 'DependencyAdded', target, depType })
  if (r < 0.9) return ev(id, ts, ACTOR_1, { type: 'DependencyRemoved', target, depType })
  return ev(id, ts, ACTOR_1, { type: 'CommentAdded', body: 'a comment' })
}

for (const seed of [1, 2, 3, 4, 5, 6]) {
  t.test(`seed ${seed}: the ready set from the index equals the rule over every projection`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-ready-index-'))
    const env = await openStore(dir, 'repo')
    t.teardown(async () => { await env.close(); rmSync(dir, { recursive: true, force: true }) })
    const dbs = openRepoDbs(env)
    const store = new EventStore(dbs)
    const random = mulberry32(seed)
    let ts = 1_000
    let gen = 0
    const adoptBlock = (events: number): RecordedWrite[] => {
      const b = store.batch()
      // Out-of-order timestamps now and then: the fold re-projects.
      for (let i = 0; i < events; i++) b.ingest(randomEvent(random, (ts += 10) - (random() < 0.1 ? 500 : 0)), true)
      store.adopt(b, ++gen)
      return b.writes
    }
    // Committed blocks, then blocks left in flight.
    for (let block = 0; block < 6; block++) {
      const writes = adoptBlock(40)
      await env.transaction(() => writeAll(writes))
      store.settle(gen)
    }
    for (let block = 0; block < 3; block++) adoptBlock(15)
    t.ok(store.inFlight, 'some writes are still in flight')

    const expected = (): string[] => ready(store.all().values()).map((p) => p.id)
    const set = store.readySet()
    t.ok(expected().length > 0, 'the board has ready issues')
    t.strictSame(set.all(), expected(), 'built from the committed index and the in-flight writes')

    // Later batches are adopted into the set as before.
    for (let block = 0; block < 4; block++) adoptBlock(20)
    t.strictSame(set.all(), expected(), 'kept current by later batches')
  })
}
