/**
 * 50 concurrent agents writing issues and comments in a real runtime
 * process, SIGKILLed three times mid-stream, while a subscriber in the same
 * process follows the log. After each kill a new writer process continues
 * (new opIds) and its subscriber resumes at the last seq the killed one
 * printed. Then a verifier checks:
 *
 * - every acknowledged event is in the log exactly once; seqs are 1..N;
 * - the projections account for every logged event (issues + comments);
 * - the subscriptions, stitched across the kills and a final resume,
 *   delivered every seq exactly once, with its event id;
 * - retrying acknowledged opIds writes nothing and answers with the same
 *   ids; retrying sent-but-unacknowledged creates leaves exactly one issue
 *   per title;
 * - every acknowledged event is in the git WAL (drained at the verifier's
 *   boot if a kill came between acknowledgement and drain), exactly once.
 *
 * Replay with CAIRN_FAULT_SEED=<seed printed in the output>.
 */
import t from 'tap'
import { childTracker, prng, scratchRepo } from '../fixtures/child-process.ts'
import { walActors, walEventIds } from '../helpers/git-wal.ts'

const KILLS = 3
const BOOT_TIMEOUT_MS = 30_000
const ACK_TIMEOUT_MS = 30_000
const seed = Number(process.env.CAIRN_FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31))
const rand = prng(seed)

interface Acked { opId: string; issueId: string; eventIds: string[]; target?: string }

t.test('50 writers, SIGKILL x3, reopen: acknowledged events exactly once, subscription without gap or duplicate', async (t) => {
  t.comment(`seed ${seed} (CAIRN_FAULT_SEED to replay)`)
  const scratch = scratchRepo('cairn-fault-issues-')
  const kids = childTracker(t, scratch.cleanup)
  const acked = new Map<string, Acked>()
  const sent = new Set<string>()
  const delivered: [number, string][] = []
  let subFrom = 1

  for (let i = 0; i < KILLS; i++) {
    const w = kids.spawn('issues-write', scratch.home, scratch.repo, {
      CAIRN_WRITERS: '50', CAIRN_WRITE_FROM: String(i * 1_000_000), CAIRN_SUB_FROM: String(subFrom),
    })
    await w.line('ready', BOOT_TIMEOUT_MS)
    const target = 150 + Math.floor(rand() * 450)
    await w.waitFor(`${target} acks`, () => (w.lines.filter((l) => 'acked' in l).length >= target ? true : undefined), ACK_TIMEOUT_MS)
    const exit = await w.kill()
    t.equal(exit.signal, 'SIGKILL', `writer ${i} was killed (after ≥ ${target} acks)`)
    for (const l of w.lines) {
      if ('sent' in l) sent.add(l.sent as string)
      if ('acked' in l) acked.set(l.acked as string, { ...(l as unknown as Acked), opId: l.acked as string })
      if ('sub' in l) delivered.push([l.sub as number, l.id as string])
    }
    t.same(w.lines.filter((l) => 'failed' in l), [], `writer ${i}: no write failed before the kill`)
    if (delivered.length > 0) subFrom = delivered[delivered.length - 1]![0] + 1
  }

  // Retry: two acknowledged creates, two acknowledged comments, and every unacknowledged create (bounded).
  const ackedList = [...acked.values()]
  const retryAcked = [
    ...ackedList.filter((a) => a.opId.startsWith('c-')).slice(0, 2),
    ...ackedList.filter((a) => a.opId.startsWith('m-')).slice(0, 2),
  ]
  const unackedCreates = [...sent].filter((op) => op.startsWith('c-') && !acked.has(op)).slice(0, 40)
  const env: Record<string, string> = {
    CAIRN_SUB_FROM: String(subFrom),
    CAIRN_RETRY: [...retryAcked.map((a) => a.opId), ...unackedCreates].join(','),
  }
  for (const a of retryAcked) if (a.target) env[`CAIRN_TARGET_${a.opId.replaceAll('-', '_')}`] = a.target
  const v = kids.spawn('issues-verify', scratch.home, scratch.repo, env)
  const report = await v.line('log', BOOT_TIMEOUT_MS)
  const resumed = (await v.line('resumed', BOOT_TIMEOUT_MS)).resumed as [number, string][]
  const retried = await v.line('retried', BOOT_TIMEOUT_MS)
  t.same(await v.waitExit(BOOT_TIMEOUT_MS), { code: 0, signal: null }, 'verifier exits 0')

  const log = report.log as [number, string, string][]
  const stats = report.stats as { lastSeq: number; events: number; issues: number; outbox: number }
  t.ok(acked.size >= 450, `${acked.size} writes were acknowledged across ${KILLS} kills`)
  t.same(log.filter(([seq], i) => seq !== i + 1).slice(0, 5), [], `log holds seqs 1..${log.length}, contiguous`)
  const bySeq = new Map(log.map(([seq, id]) => [id, seq]))
  t.equal(bySeq.size, log.length, 'no event id is logged twice')
  const lost = ackedList.flatMap((a) => a.eventIds).filter((id) => !bySeq.has(id))
  t.same(lost.slice(0, 5), [], `all ${ackedList.reduce((n, a) => n + a.eventIds.length, 0)} acknowledged events are in the log`)
  t.same([stats.events, stats.lastSeq], [log.length, log.length], 'stats: events = lastSeq = log length')
  // A writer killed mid ref-update leaves a lock git honours for STALE_LOCK_MS: then the boot
  // drain reports it and leaves exactly those events pending for the verifier's flush (below).
  const boot = (report.reconciliation as { repos: { wal: { error: string | null; drainedEvents: number; adopted: number; pending: number } }[] }).repos[0]?.wal
  t.comment(`boot drain: ${JSON.stringify(boot)}`)
  if (boot?.error) t.equal(stats.outbox, boot.pending, 'the boot drain waited on a lock: what it reports pending is the outbox')
  else t.equal(stats.outbox, 0, 'the outbox was drained into git at boot')

  const issues = report.issues as [string, number][]
  t.equal(issues.length + issues.reduce((n, [, comments]) => n + comments, 0), log.length,
    'projections account for every logged event (one create per issue, one event per comment)')
  const issueIds = new Set(issues.map(([id]) => id))
  t.same(ackedList.filter((a) => !issueIds.has(a.issueId)).slice(0, 5), [], 'every acknowledged write names an issue that is projected')

  const stitched = [...delivered, ...resumed]
  t.same(stitched.map(([seq]) => seq), log.map(([seq]) => seq), `subscriptions across ${KILLS} kills and a resume delivered seqs 1..${log.length} once each`)
  t.same(stitched.filter(([seq, id]) => bySeq.get(id) !== seq).slice(0, 5), [], 'each delivered seq carries its logged event id')

  const retries = retried.retried as { opId: string; issueId: string; eventIds: string[]; duplicate?: boolean }[]
  for (const a of retryAcked) {
    const r = retries.find((x) => x.opId === a.opId)
    // A repeated create answers with the issue as it is now; a repeated comment with its original event ids.
    const pick = (x: { issueId: string; eventIds: string[] }) => (a.opId.startsWith('c-') ? { issueId: x.issueId } : { issueId: x.issueId, eventIds: x.eventIds })
    t.same(r && pick(r), pick(a), `retry of acknowledged ${a.opId} answers with the original ids`)
  }
  const titles = retried.titles as string[]
  const counts = new Map<string, number>()
  for (const title of titles) counts.set(title, (counts.get(title) ?? 0) + 1)
  t.same([...counts].filter(([, n]) => n > 1).slice(0, 5), [], 'no title (one per create opId) appears twice after retrying unacknowledged creates')
  const after = retried.after as { lastSeq: number }
  const newIssues = titles.length - issues.length
  t.ok(newIssues >= 0 && newIssues <= unackedCreates.length, `retries added ${newIssues} issue(s), at most the ${unackedCreates.length} unacknowledged creates`)
  t.equal(after.lastSeq, log.length + newIssues, 'retries appended only the creates that had not committed, nothing for acknowledged opIds')

  // The git WAL: the verifier drained what the killed writers left in the outbox.
  const inGit = walActors(scratch.repo).flatMap((actor) => walEventIds(scratch.repo, actor))
  const gitSet = new Set(inGit)
  t.equal(gitSet.size, inGit.length, `no event is written to git twice (${inGit.length} in the WAL)`)
  const missing = ackedList.flatMap((a) => a.eventIds).filter((id) => !gitSet.has(id))
  t.same(missing.slice(0, 5), [], 'every acknowledged event is in git after the kills')
  t.match(boot?.error ?? 'none', /^none$|stays locked/, 'the boot drain succeeded, or waited on a lock a killed writer left (removed once stale)')
  t.equal((retried.wal as { pending?: number }).pending, 0, 'the verifier\'s flush left nothing pending')
})
