/**
 * SIGKILL a real runtime process while ~32 appends are in flight, twenty
 * times on one home + repository, and check what survives:
 *
 * - every acknowledged append is stored exactly once, under the seq it was
 *   acknowledged with (acks are sent only after a durable commit);
 * - seqs are 1..N, contiguous, and no opId appears twice;
 * - nothing is stored that no writer sent;
 * - boot reconciliation only ever lists operations that an earlier killed
 *   writer sent and never saw acknowledged, each once, all resumed, and every
 *   resumed operation ends up stored;
 * - each boot after a kill names exactly the killed pid as a crashed session.
 *
 * Replay a run with CAIRN_FAULT_SEED=<seed printed in the output>.
 */
import t from 'tap'
import { childTracker, prng, scratchRepo, type Line, type Reconciliation } from '../fixtures/child-process.ts'

const ITERATIONS = 20
const VERIFY_EVERY = 5
const BOOT_TIMEOUT_MS = 30_000
const ACK_TIMEOUT_MS = 30_000
const seed = Number(process.env.CAIRN_FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31))
const rand = prng(seed)

type Rec = { seq: number; opId: string }

t.test('SIGKILL during in-flight appends, 20 times', async (t) => {
  t.comment(`seed ${seed} (CAIRN_FAULT_SEED to replay)`)
  const scratch = scratchRepo('cairn-fault-writes-')
  const kids = childTracker(t, scratch.cleanup)
  const { home, repo } = scratch

  /** opId → iteration of the writer that sent it. */
  const sentBy = new Map<string, number>()
  /** opId → seq it was acknowledged with. */
  const ackedSeq = new Map<string, number>()
  const ackedBySeq = new Map<number, string>()
  /** opId → which boot reconciled it. */
  const reconciled = new Map<string, string>()
  /** Ops a writer boot resumed: its first commit applied them before any ack. */
  const resumedByWriters = new Set<string>()
  let inFlightReported = 0
  const perKill: { iteration: number; target: number; sent: number; acked: number; reconciledNext: number }[] = []
  /** pid of the last process that was SIGKILLed, or null after a clean stop. */
  let lastKilledPid: number | null = null

  const checkBoot = (rec: Reconciliation, by: string): number => {
    const expectedPrev = lastKilledPid === null ? [] : [lastKilledPid]
    t.same(rec.previousSessions.map((s) => s.pid), expectedPrev, `${by}: previous crashed sessions are exactly the last killed pid`)
    t.ok(rec.previousSessions.every((s) => s.outcome === 'crashed'), `${by}: previous sessions are marked crashed`)
    const ops = rec.repos.flatMap((r) => r.operations)
    const foreign = ops.filter((op) => !sentBy.has(op.opId) || ackedSeq.has(op.opId))
    t.same(foreign, [], `${by}: every reconciled op was sent by an earlier killed writer and NOT acknowledged to it`)
    t.same(ops.filter((op) => op.type !== 'append' || op.outcome !== 'resumed'), [], `${by}: every reconciled op is an append, resumed`)
    t.same(ops.filter((op) => reconciled.has(op.opId)).map((op) => [op.opId, reconciled.get(op.opId)]), [], `${by}: no op is reconciled by two boots`)
    for (const op of ops) reconciled.set(op.opId, by)
    inFlightReported += ops.length
    return ops.length
  }

  const checkRecords = (records: Rec[], by: string): void => {
    const gaps = records.filter((r, i) => r.seq !== i + 1).slice(0, 5)
    t.same(gaps, [], `${by}: ${records.length} records with seq 1..${records.length}, contiguous and increasing`)
    const seen = new Map<string, number>()
    const dup: Rec[] = []
    for (const r of records) {
      if (seen.has(r.opId)) dup.push(r)
      seen.set(r.opId, r.seq)
    }
    t.same(dup.slice(0, 5), [], `${by}: no opId is stored twice`)
    const lostAcks = [...ackedSeq].filter(([opId, seq]) => seen.get(opId) !== seq).slice(0, 5)
    t.same(lostAcks, [], `${by}: all ${ackedSeq.size} acknowledged appends are stored under their acknowledged seq`)
    t.same(records.filter((r) => !sentBy.has(r.opId)).slice(0, 5), [], `${by}: every stored opId was sent by some writer`)
    t.same([...resumedByWriters].filter((opId) => !seen.has(opId)), [], `${by}: every op a writer boot resumed is stored`)
  }

  const verify = async (by: string): Promise<Rec[]> => {
    const v = kids.spawn('verify', home, repo)
    const line = await v.line('records', BOOT_TIMEOUT_MS)
    const exit = await v.waitExit(BOOT_TIMEOUT_MS)
    t.same(exit, { code: 0, signal: null }, `${by}: verify exits 0`)
    checkBoot(line.reconciliation as Reconciliation, by)
    if (lastKilledPid !== null && perKill.length > 0) perKill[perKill.length - 1]!.reconciledNext += reconciledCount(line)
    lastKilledPid = null
    const records = line.records as Rec[]
    checkRecords(records, by)
    return records
  }

  const started = Date.now()
  for (let i = 0; i < ITERATIONS; i++) {
    const w = kids.spawn('write', home, repo, { CAIRN_WRITE_FROM: String(i * 1_000_000 + 1) })
    const ready = await w.line('ready', BOOT_TIMEOUT_MS)
    const n = checkBoot(ready.reconciliation as Reconciliation, `writer ${i} boot`)
    if (perKill.length > 0) perKill[perKill.length - 1]!.reconciledNext += n
    for (const op of (ready.reconciliation as Reconciliation).repos.flatMap((r) => r.operations)) resumedByWriters.add(op.opId)

    const target = 10 + Math.floor(rand() * 291)
    let acks = 0
    let scanned = 0
    await w.waitFor(`${target} acks`, () => {
      for (; scanned < w.lines.length; scanned++) if ('acked' in w.lines[scanned]!) acks++
      return acks >= target ? true : undefined
    }, ACK_TIMEOUT_MS)
    // A random phase of the commit cycle: answers (and so the writer's next
    // appends) travel in batches, so killing right after reading an answer
    // would hit the same phase each time.
    await new Promise((r) => setTimeout(r, Math.floor(rand() * 6)))
    const exit = await w.kill()
    t.equal(exit.signal, 'SIGKILL', `writer ${i}: killed by SIGKILL (pid ${w.pid}) after ≥ ${target} acks`)
    lastKilledPid = w.pid

    // Everything it printed before dying was read (close waits for stdout EOF).
    const bad: Line[] = []
    let sent = 0
    let acked = 0
    for (const l of w.lines) {
      if (typeof l.sent === 'string') {
        if (sentBy.has(l.sent)) bad.push({ reused: l.sent })
        sentBy.set(l.sent, i)
        sent++
      } else if (typeof l.acked === 'string') {
        const seq = l.seq as number
        if (sentBy.get(l.acked) !== i) bad.push({ ackedUnsent: l.acked })
        if (ackedSeq.has(l.acked) || l.duplicate) bad.push({ ackedTwice: l.acked })
        if (ackedBySeq.has(seq)) bad.push({ seqAckedTwice: seq, a: ackedBySeq.get(seq), b: l.acked })
        ackedSeq.set(l.acked, seq)
        ackedBySeq.set(seq, l.acked)
        acked++
      } else if (!('ready' in l)) {
        bad.push(l) // failed / error / timeout / partial / unparsed
      }
    }
    t.same(bad.slice(0, 5), [], `writer ${i}: ${sent} sent, ${acked} acked, no failures or stray lines`)
    perKill.push({ iteration: i, target, sent, acked, reconciledNext: 0 })

    if ((i + 1) % VERIFY_EVERY === 0 || i === ITERATIONS - 1) await verify(`verify after kill ${i}`)
  }

  // The last verify stopped cleanly, draining whatever it resumed: a second
  // one sees no crash and every reconciled op stored.
  const final = await verify('final verify after clean stop')
  const finalIds = new Set(final.map((r) => r.opId))
  t.same([...reconciled.keys()].filter((opId) => !finalIds.has(opId)), [], 'every reconciled (resumed) op is stored in the end')

  t.equal(perKill.length, ITERATIONS, `${ITERATIONS} SIGKILLs delivered`)
  t.comment(`kills: ${JSON.stringify(perKill)}`)
  t.comment(`in-flight operations listed by reconciliation across ${ITERATIONS} kills: ${inFlightReported}; records ${final.length}; acked ${ackedSeq.size}; sent ${sentBy.size}; ${((Date.now() - started) / 1000).toFixed(1)} s`)
  t.ok(inFlightReported >= 1, `reconciliation listed in-flight operations after the kills (total ${inFlightReported})`)
})

function reconciledCount(line: Line): number {
  return (line.reconciliation as Reconciliation).repos.reduce((n, r) => n + r.operations.length, 0)
}
