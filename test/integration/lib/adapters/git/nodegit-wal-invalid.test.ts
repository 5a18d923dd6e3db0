/**
 * What the nodegit GitWal refuses: WAL commits forged with the git CLI that
 * break the layout (INVALID_FORMAT naming the commit, or SCHEMA_MISMATCH),
 * and bad arguments (INVALID_ARGUMENT naming the field), which never touch git.
 */
import { join } from 'node:path'
import t from 'tap'
import { openGitWal } from '../../../../../lib/adapters/git/nodegit-wal.ts'
import type { WalCommitInput } from '../../../../../lib/kernel/ports/git-wal.ts'
import { CairnError } from '../../../../../protocol/errors.ts'
import { sandbox } from '../../../../helpers/tmp-repos.ts'
import { rejectsCoded, type Test } from '../../../../helpers/coded-error.ts'
import { chunkOf, chunkPathOf, forgeCommit, git, hashOf, metaJson, walInput } from './wal-inputs.ts'

const box = sandbox()
t.teardown(() => box.cleanup())
const gitDir = join(box.repo('invalid'), '.git')
const wal = await openGitWal(gitDir)
t.teardown(() => wal.close())

/** Awaits `fn` and checks it rejects with a CairnError of `code` whose details carry `detail`. */
async function rejects(t: Test, what: string, fn: () => Promise<unknown>, code: string, detail: Record<string, unknown>): Promise<void> {
  await rejectsCoded(t, fn, code, null, what, { details: detail })
}

t.test('malformed WAL commits forged with the git CLI: INVALID_FORMAT naming the commit', async (t) => {
  // Each forgery sits on a good commit: a bad commit fails the whole read, never a part of it.
  const good = await wal.appendWal(walInput(null, { ref: 'refs/cairn/wal/base' }))
  if (!good.ok) throw new Error('setup')
  const base = good.commit
  const chunk = chunkOf('forged', 1)
  const h = hashOf(chunk)
  const path = chunkPathOf(chunk)
  const other = chunkOf('forged', 2)
  const cases: [string, Record<string, string | Uint8Array>, string | null, RegExp][] = [
    ['no meta.json', { [path]: chunk }, base, /has no meta\.json/],
    ['meta.json is not JSON', { 'meta.json': '{"schema_version": 1,', [path]: chunk }, base, /not valid UTF-8 JSON/],
    ['meta.json is not UTF-8', { 'meta.json': Uint8Array.of(0x7b, 0xff, 0x7d), [path]: chunk }, base, /not valid UTF-8 JSON/],
    ['meta.json is an array', { 'meta.json': '[]', [path]: chunk }, base, /not a JSON object/],
    ['actor_id is not hex', { 'meta.json': metaJson(h, base, 'XYZ'), [path]: chunk }, base, /actor_id must be 32 lowercase hex/],
    ['chunk_hash is uppercase', { 'meta.json': metaJson(h.toUpperCase(), base), [path]: chunk }, base, /chunk_hash must be 64 lowercase hex/],
    ['prev_wal is not an id', { 'meta.json': metaJson(h, 'HEAD'), [path]: chunk }, base, /prev_wal must be null or/],
    ['schema_version is a string', { 'meta.json': metaJson(h, base).replace('1,', '"1",'), [path]: chunk }, base, /schema_version must be 1/],
    ['no .bin file', { 'meta.json': metaJson(h, base) }, base, /holds 0 \.bin files/],
    ['two .bin files', { 'meta.json': metaJson(h, base), [path]: chunk, [chunkPathOf(other)]: other }, base, /holds 2 \.bin files/],
    ['a .bin outside events/YYYY/MM/DD/', { 'meta.json': metaJson(h, base), [`events/${h}.bin`]: chunk }, base, /is not events\/YYYY\/MM\/DD/],
    ['the path names another hash', { 'meta.json': metaJson(h, base), [chunkPathOf(other)]: chunk }, base, /does not match meta\.json chunk_hash/],
    ['the bytes do not hash to their name', { 'meta.json': metaJson(h, base), [path]: other }, base, /chunk hash is [0-9a-f]{64}, meta\.json says/],
    ['prev_wal is not the parent', { 'meta.json': metaJson(h, null), [path]: chunk }, base, /prev_wal null is not the first parent/],
    ['prev_wal names a parent it lacks', { 'meta.json': metaJson(h, base), [path]: chunk }, null, /is not the first parent null/],
  ]
  for (const [what, files, parent, problem] of cases) {
    const commit = forgeCommit(gitDir, 'refs/cairn/wal/forged', files, parent)
    await rejects(t, what, () => wal.readWal(commit), 'INVALID_FORMAT', { commit })
    await t.rejects(wal.readWal(commit), { message: new RegExp(`^WAL commit ${commit}: .*${problem.source}`) }, `${what}: says why`)
  }
  t.equal((await wal.readWal(base)).length, 1, 'the good commit under them still reads')
})

t.test('a meta.json of another schema version: SCHEMA_MISMATCH, not corruption', async (t) => {
  const chunk = chunkOf('future', 1)
  const meta = metaJson(hashOf(chunk), null).replace('"schema_version": 1', '"schema_version": 2')
  const commit = forgeCommit(gitDir, 'refs/cairn/wal/future', { 'meta.json': meta, [chunkPathOf(chunk)]: chunk }, null)
  await rejects(t, 'schema_version 2', () => wal.readWal(commit), 'SCHEMA_MISMATCH', { commit })
})

t.test('extra keys in meta.json are ignored (forward compatible), the four fields come back', async (t) => {
  const chunk = chunkOf('extra', 1)
  const h = hashOf(chunk)
  const meta = metaJson(h, null).replace('{', '{\n  "signed_by": "someone",')
  const commit = forgeCommit(gitDir, 'refs/cairn/wal/extra', { 'meta.json': meta, [chunkPathOf(chunk)]: chunk }, null)
  const [entry] = await wal.readWal(commit)
  t.same(entry?.meta, { schema_version: 1, actor_id: walInput(null).meta.actor_id, chunk_hash: h, prev_wal: null })
})

t.test('bad arguments: INVALID_ARGUMENT naming the field, and git is not touched', async (t) => {
  const refsBefore = git(gitDir, ['for-each-ref'])
  const ok = walInput(null, { ref: 'refs/cairn/wal/args' })
  const other = chunkOf('other', 1)
  const bad: [string, (i: WalCommitInput) => unknown, string][] = [
    ['ref outside refs/cairn/', (i) => { i.ref = 'refs/heads/main' }, 'ref'],
    ['ref that is not a ref name', (i) => { i.ref = 'refs/cairn/a..b' }, 'ref'],
    ['ref with a trailing slash', (i) => { i.ref = 'refs/cairn/' }, 'ref'],
    ['ref not a string', (i) => { (i as { ref: unknown }).ref = 7 }, 'ref'],
    ['expectedTip not an id', (i) => { i.expectedTip = 'HEAD'; i.meta.prev_wal = 'HEAD' }, 'expectedTip'],
    ['meta missing', (i) => { (i as { meta: unknown }).meta = null }, 'meta'],
    ['schema_version 2', (i) => { (i.meta as { schema_version: number }).schema_version = 2 }, 'meta.schema_version'],
    ['actor_id too short', (i) => { i.meta.actor_id = 'abc' }, 'meta.actor_id'],
    ['chunk_hash uppercase', (i) => { i.meta.chunk_hash = i.meta.chunk_hash.toUpperCase() }, 'meta.chunk_hash'],
    ['prev_wal is not expectedTip', (i) => { i.meta.prev_wal = 'ab'.repeat(20) }, 'meta.prev_wal'],
    ['chunkPath without the date', (i) => { i.chunkPath = `events/${i.meta.chunk_hash}.bin` }, 'chunkPath'],
    ['chunkPath with ..', (i) => { i.chunkPath = `events/2024/02/../${i.meta.chunk_hash}.bin` }, 'chunkPath'],
    ['chunkPath naming another hash', (i) => { i.chunkPath = chunkPathOf(other) }, 'meta.chunk_hash'],
    ['chunk bytes of another chunk', (i) => { i.chunk = other }, 'chunk'],
    ['chunk not bytes', (i) => { (i as { chunk: unknown }).chunk = 'GRITECNK' }, 'chunk'],
    ['message with NUL', (i) => { i.message = 'a\0b' }, 'message'],
    ['author name with <', (i) => { i.author = { ...i.author, name: 'a <b>' } }, 'author.name'],
    ['author email empty', (i) => { i.author = { ...i.author, email: '' } }, 'author.email'],
    ['author time NaN', (i) => { i.author = { ...i.author, timeMs: Number.NaN } }, 'author.timeMs'],
  ]
  for (const [what, mutate, field] of bad) {
    const input = structuredClone(ok)
    mutate(input)
    await rejects(t, `appendWal: ${what}`, () => wal.appendWal(input), 'INVALID_ARGUMENT', { field })
  }
  const tip = (await wal.appendWal(walInput(null, { ref: 'refs/cairn/wal/x' }))) as { commit: string }
  await rejects(t, 'appendWal: a ref under an existing ref', () => wal.appendWal(walInput(null, { ref: 'refs/cairn/wal/x/y' })), 'INVALID_ARGUMENT', { field: 'ref' })
  await rejects(t, 'appendWal: a ref over existing refs', () => wal.appendWal(walInput(null, { ref: 'refs/cairn/wal' })), 'INVALID_ARGUMENT', { field: 'ref' })
  git(gitDir, ['pack-refs', '--all'])
  await rejects(t, 'appendWal: a ref under a packed ref', () => wal.appendWal(walInput(null, { ref: 'refs/cairn/wal/x/z' })), 'INVALID_ARGUMENT', { field: 'ref' })
  await rejects(t, 'readWal: tip', () => wal.readWal('HEAD'), 'INVALID_ARGUMENT', { field: 'tip' })
  await rejects(t, 'readWal: stopAt', () => wal.readWal(tip.commit, { stopAt: 'x' }), 'INVALID_ARGUMENT', { field: 'opts.stopAt' })
  await rejects(t, 'readWal: limit 0', () => wal.readWal(tip.commit, { limit: 0 }), 'INVALID_ARGUMENT', { field: 'opts.limit' })
  await rejects(t, 'readWal: limit 1.5', () => wal.readWal(tip.commit, { limit: 1.5 }), 'INVALID_ARGUMENT', { field: 'opts.limit' })
  await rejects(t, 'readRef: not a ref', () => wal.readRef('main'), 'INVALID_ARGUMENT', { field: 'ref' })
  await rejects(t, 'listRefs: prefix', () => wal.listRefs('cairn/'), 'INVALID_ARGUMENT', { field: 'prefix' })
  await rejects(t, 'openGitWal: gitDir', () => openGitWal(''), 'INVALID_ARGUMENT', { field: 'gitDir' })
  const refsAfter = git(gitDir, ['for-each-ref']).split('\n').filter((l) => !l.endsWith('refs/cairn/wal/x')).join('\n')
  t.equal(refsAfter, refsBefore, 'no ref moved by a refused call')
})
