/**
 * The bulk WAL reader (cli-wal-read.ts, through the git binary) reads what
 * the nodegit reader reads and refuses what it refuses, with the same
 * words: every forgery of nodegit-wal-invalid.test.ts, plus trees no WAL
 * commit could have (hundreds of files, deep nesting, a missing blob).
 * Chains: many refs listed at once, ranges cut short by another range's
 * exclusion, and a stopAt that is not on the chain (read to the root).
 */
import { join } from 'node:path'
import t from 'tap'
import { openGitSync } from '../../../../../lib/adapters/git/nodegit-wal.ts'
import { CairnError } from '../../../../../protocol/errors.ts'
import { sandbox } from '../../../../helpers/tmp-repos.ts'
import { chunkOf, chunkPathOf, forgeCommit, git, hashOf, metaJson, walInput } from './wal-inputs.ts'

const box = sandbox()
t.teardown(() => box.cleanup())
const gitDir = join(box.repo('bulk'), '.git')
const sync = await openGitSync(gitDir)
const reader = sync.walReader()
t.teardown(async () => { await reader.close(); await sync.close() })

async function append(ref: string, tip: string | null, seq: number): Promise<string> {
  const r = await sync.appendWal(walInput(tip, { ref, seq, tag: ref }))
  if (!r.ok) throw new Error('setup: append lost a race')
  return r.commit
}

async function chainOf(tip: string, stopAt: string | null): Promise<string[]> {
  const [chain] = await reader.chains([{ tip, stopAt }], 1_000)
  return (chain ?? []).map((l) => l.commit)
}

t.test('reads what nodegit reads, many refs at once', async (t) => {
  const a: string[] = []
  const b: string[] = []
  for (let i = 0; i < 5; i++) a.push(await append('refs/cairn/wal/a', a.at(-1) ?? null, i))
  for (let i = 0; i < 3; i++) b.push(await append('refs/cairn/wal/b', b.at(-1) ?? null, 10 + i))
  const chains = await reader.chains([{ tip: a[4]!, stopAt: a[1]! }, { tip: b[2]!, stopAt: null }, { tip: a[0]!, stopAt: a[0]! }], 1_000)
  t.same(chains.map((c) => c.map((l) => l.commit)), [a.slice(2), b, []], 'each range from its stopAt (excluded) to its tip, oldest first')
  t.same(chains[0]![0]!.parent, a[1], 'links carry their first parent')
  const entries = await reader.read([...chains[0]!, ...chains[1]!])
  const viaNodegit = [...await sync.readWal(a[4]!, { stopAt: a[1]! }), ...await sync.readWal(b[2]!)]
  t.same(entries, viaNodegit, 'the same entries, byte for byte, as the nodegit reader')
  await t.rejects(reader.chains([{ tip: a[4]!, stopAt: null }], 3), { code: 'INVALID_ARGUMENT' }, 'a chain past the limit is refused')
})

t.test('ranges that share history, and a stopAt off the chain', async (t) => {
  const base = [await append('refs/cairn/wal/c', null, 1)]
  base.push(await append('refs/cairn/wal/c', base[0]!, 2))
  // d continues c's history (the same actor's ref copied under another name): ^c1 would cut c's own range short.
  const d = await append('refs/cairn/wal/d', null, 3).catch(() => null)
  t.ok(d)
  git(gitDir, ['update-ref', 'refs/cairn/wal/d', base[1]!])
  const d3 = await append('refs/cairn/wal/d', base[1]!, 4)
  const chains = await reader.chains([{ tip: base[1]!, stopAt: null }, { tip: d3, stopAt: base[0]! }], 1_000)
  t.same(chains.map((c) => c.map((l) => l.commit)), [base, [base[1], d3]], 'each range is whole, whatever the other excludes')
  const other = await append('refs/cairn/wal/e', null, 5)
  t.same(await chainOf(base[1]!, other), base, 'a stopAt not on the chain: read from the root')
})

t.test('malformed WAL commits: INVALID_FORMAT naming the commit, as the nodegit reader says it', async (t) => {
  const good = await append('refs/cairn/wal/base', null, 1)
  const chunk = chunkOf('forged', 1)
  const h = hashOf(chunk)
  const path = chunkPathOf(chunk)
  const other = chunkOf('forged', 2)
  const many = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`junk/${i}.txt`, `${i}`]))
  const deep = { [`${Array.from({ length: 12 }, (_, i) => `d${i}`).join('/')}/x.txt`]: 'deep' }
  const cases: [string, Record<string, string | Uint8Array>, string | null, RegExp][] = [
    ['no meta.json', { [path]: chunk }, good, /has no meta\.json/],
    ['meta.json is not JSON', { 'meta.json': '{"schema_version": 1,', [path]: chunk }, good, /not valid UTF-8 JSON/],
    ['no .bin file', { 'meta.json': metaJson(h, good) }, good, /holds 0 \.bin files/],
    ['two .bin files', { 'meta.json': metaJson(h, good), [path]: chunk, [chunkPathOf(other)]: other }, good, /holds 2 \.bin files/],
    ['a .bin outside events/YYYY/MM/DD/', { 'meta.json': metaJson(h, good), [`events/${h}.bin`]: chunk }, good, /is not events\/YYYY\/MM\/DD/],
    ['the bytes do not hash to their name', { 'meta.json': metaJson(h, good), [path]: other }, good, /chunk hash is [0-9a-f]{64}, meta\.json says/],
    ['prev_wal is not the parent', { 'meta.json': metaJson(h, null), [path]: chunk }, good, /prev_wal null is not the first parent/],
    ['hundreds of files', { 'meta.json': metaJson(h, good), [path]: chunk, ...many }, good, /more than 256 files/],
    ['nested twelve deep', { 'meta.json': metaJson(h, good), [path]: chunk, ...deep }, good, /nests deeper than 8 levels/],
  ]
  for (const [what, files, parent, problem] of cases) {
    const commit = forgeCommit(gitDir, 'refs/cairn/wal/forged', files, parent)
    const links = (await reader.chains([{ tip: commit, stopAt: good }], 10))[0]!
    const err = await reader.read(links).catch((e) => e)
    t.ok(err instanceof CairnError && err.code === 'INVALID_FORMAT' && err.details?.commit === commit, `${what}: INVALID_FORMAT naming the commit`, { err: String(err) })
    t.match(err?.message, new RegExp(`^WAL commit ${commit}: .*${problem.source}`), `${what}: says why`)
    if (!/hundreds|twelve/.test(what)) {
      t.same(await sync.readWal(commit, { stopAt: good }).catch((e) => e.message), err?.message, `${what}: the nodegit reader says the same`)
    }
  }
  const missingBlob = git(gitDir, ['mktree', '--missing'], `100644 blob ${'ab'.repeat(20)}\tmeta.json\n100644 blob ${'cd'.repeat(20)}\tevents.bin\n`).trim()
  const commit = git(gitDir, ['commit-tree', missingBlob, '-m', 'missing']).trim()
  const err = await reader.read([{ commit, parent: null, tree: missingBlob }]).catch((e) => e)
  t.match(err, { code: 'INVALID_FORMAT', details: { commit } }, 'a blob that is not in the repository: INVALID_FORMAT')
  t.equal((await reader.read((await reader.chains([{ tip: good, stopAt: null }], 10))[0]!)).length, 1, 'the good commit still reads')
})

t.test('bad arguments are INVALID_ARGUMENT, before git runs', async (t) => {
  await t.rejects(reader.chains([{ tip: 'HEAD', stopAt: null }], 10), { code: 'INVALID_ARGUMENT', details: { field: 'tip' } })
  await t.rejects(reader.chains([{ tip: 'ab'.repeat(20), stopAt: '--all' }], 10), { code: 'INVALID_ARGUMENT', details: { field: 'stopAt' } })
  await t.rejects(reader.chains([], 0), { code: 'INVALID_ARGUMENT', details: { field: 'limit' } })
  await t.rejects(reader.read([{ commit: '--output=/tmp/x', parent: null, tree: 'ab'.repeat(20) }]), { code: 'INVALID_ARGUMENT', details: { field: 'links' } })
})
