/**
 * Commands that depend on writes still in flight. The RepoWorker runs each
 * command as soon as it arrives, against an in-memory view holding every
 * earlier command's writes, while lmdb-js commits those writes in the
 * background (effects.ts, lib/kernel/store/write-chain.ts). Requests sent together land in
 * the same or adjacent blocks, so each case here fires its requests without
 * waiting and checks what a strictly serial writer would answer.
 */
import t from 'tap'
import { join } from 'node:path'
import { createRuntime, type Repo, type Runtime } from '../../../../../lib/index.ts'
import type { WriteResult } from '../../../../../protocol/messages.ts'
import { openStore } from '../../../../../lib/kernel/store/open-store.ts'
import { openRepoDbs } from '../../../../../actors/repo-worker/store/dbs.ts'
import { staleReason } from '../../../../../actors/repo-worker/store/rebuild.ts'
import { sandbox } from '../../../../helpers/tmp-repos.ts'

const COMMENTS = 200

const box = sandbox()
const path = box.repo('in-flight')
let rt: Runtime = await createRuntime({ home: box.home, threads: 1 })
let repo: Repo = await rt.repo(path, { agent: 'alice' })
t.teardown(async () => { await rt.stop(); box.cleanup() })

const fulfilled = <T>(rs: PromiseSettledResult<T>[]): T[] => rs.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
const codes = (rs: PromiseSettledResult<unknown>[]): string[] => rs.flatMap((r) => (r.status === 'rejected' ? [(r.reason as { code: string }).code] : []))

t.test(`${COMMENTS} comments sent at once: every one acknowledged, contiguous seqs, in order`, async (t) => {
  const x = await repo.issues.create({ title: 'busy' })
  const results = await Promise.all(Array.from({ length: COMMENTS }, (_, i) => repo.issues.comment(x.id, `c${i}`)))
  const seqs = results.map((r) => r.seq)
  t.strictSame(seqs, Array.from({ length: COMMENTS }, (_, i) => seqs[0]! + i), 'seqs follow the send order without gaps')
  t.strictSame((await repo.issues.show(x.id)).comments.map((c) => c.body), results.map((_, i) => `c${i}`), 'the projection holds each comment once, in order')
})

t.test('two opposite dependencies sent together: exactly one lands, the other is a CYCLE', async (t) => {
  const [a, b] = await Promise.all([repo.issues.create({ title: 'a' }), repo.issues.create({ title: 'b' })])
  const rs = await Promise.allSettled([
    repo.issues.depend(a.id, { target: b.id, type: 'blocks' }),
    repo.issues.depend(b.id, { target: a.id, type: 'blocks' }),
  ])
  t.equal(fulfilled(rs).length, 1, 'one dependency is written')
  t.strictSame(codes(rs), ['CYCLE'], 'the second sees the first, still in flight, and is refused')
  const deps = [...(await repo.issues.show(a.id)).dependencies, ...(await repo.issues.show(b.id)).dependencies]
  t.equal(deps.length, 1, 'the board holds exactly one of the two')
})

t.test('a retry with the same opId while the first is in flight answers the same write, once', async (t) => {
  const x = await repo.issues.create({ title: 'retried' })
  const [first, retry] = await Promise.all([
    repo.issues.comment(x.id, 'once', { opId: 'op-in-flight' }),
    repo.issues.comment(x.id, 'once', { opId: 'op-in-flight' }),
  ]) as [WriteResult, WriteResult]
  t.strictSame([first.duplicate, retry.duplicate], [false, true], 'the second is answered as the duplicate')
  t.strictSame(retry.eventIds, first.eventIds, 'with the first one\'s event ids')
  t.equal(retry.seq, first.seq, 'and its seq')
  t.strictSame((await repo.issues.show(x.id)).comments.map((c) => c.body), ['once'], 'the comment is written once')

  const created = await Promise.all([
    repo.issues.create({ title: 'created once' }, { opId: 'create-in-flight' }),
    repo.issues.create({ title: 'created once' }, { opId: 'create-in-flight' }),
  ])
  t.equal(created[0].id, created[1].id, 'a create retried in flight answers the same issue')
  t.equal((await repo.issues.list()).filter((i) => i.title === 'created once').length, 1, 'and there is one such issue')
})

t.test('a refused command between two good ones costs no seq and disturbs neither', async (t) => {
  const x = await repo.issues.create({ title: 'neighbours' })
  const rs = await Promise.allSettled([
    repo.issues.comment(x.id, 'before'),
    repo.issues.comment('f'.repeat(32), 'nowhere'),
    repo.issues.comment(x.id, 'after'),
  ])
  t.strictSame(codes(rs), ['NOT_FOUND'], 'the unknown issue is refused')
  const [before, after] = fulfilled(rs) as WriteResult[]
  t.equal(after!.seq, before!.seq + 1, 'the refused command took no seq')
  t.strictSame((await repo.issues.show(x.id)).comments.map((c) => c.body), ['before', 'after'])
})

t.test('a read the worker answers waits for the writes in flight that it counts', async (t) => {
  const x = await repo.issues.create({ title: 'counted' })
  const before = (await repo.events.stats()).events
  const comments = Array.from({ length: 40 }, (_, i) => repo.issues.comment(x.id, `n${i}`))
  // Answers leave the worker in order, several per port message (lib/kernel/frame-port.ts):
  // when the read's answer is here, every comment's answer must be here too, not in a later turn.
  const stats = repo.events.stats().then(async (s) => {
    const allAcked = await Promise.race([Promise.all(comments).then(() => true), new Promise<boolean>((r) => setImmediate(() => r(false)))])
    return { s, allAcked }
  })
  const [answer] = await Promise.all([stats, ...comments])
  t.equal(answer.s.events, before + 40, 'the answer counts every comment sent before it')
  t.equal(answer.allAcked, true, 'and arrives only once all of them were acknowledged')
})

t.test('what was answered is what the disk holds: a restart shows the same board', async (t) => {
  const board = await repo.issues.list()
  const shown = await Promise.all(board.map((i) => repo.issues.show(i.id)))
  await rt.stop()
  const env = await openStore(join(path, '.git', 'cairn'), 'repo')
  t.equal(staleReason(openRepoDbs(env)), null, 'the projection checkpoint matches the log')
  await env.close()
  rt = await createRuntime({ home: box.home, threads: 1 })
  repo = await rt.repo(path, { agent: 'alice' })
  t.strictSame(await repo.issues.list(), board, 'the same list')
  t.strictSame(await Promise.all(board.map((i) => repo.issues.show(i.id))), shown, 'the same projections')
})
