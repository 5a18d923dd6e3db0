/**
 * Sync between replicas through a real bare repository over file://: what
 * one replica writes another reads after a sync, refs travel as plain git
 * refs, runs join (single-flight), progress streams, and nothing moves twice.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { createRuntime, type Repo, type Runtime, type SyncProgress } from '../../../../lib/index.ts'
import { sandbox, type Sandbox } from '../../../helpers/tmp-repos.ts'
import { walEventIds } from '../../../helpers/git-wal.ts'
import { open } from 'lmdb'
import { OPEN_OPTIONS } from '../../../../lib/kernel/store/open-store.ts'
import { assertCoded } from '../../../helpers/coded-error.ts'

type Test = Parameters<Parameters<typeof t.test>[0]>[0]

const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim()
const refsOf = (gitDir: string, prefix = 'refs/cairn/wal/'): Record<string, string> => {
  const out = execFileSync('git', ['--git-dir', gitDir, 'for-each-ref', '--format=%(refname) %(objectname)', prefix], { encoding: 'utf8' }).trim()
  return Object.fromEntries(out.split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]))
}

interface Replica { rt: Runtime; repo: Repo; path: string }

async function replicas(t: Test, box: Sandbox, names: string[]): Promise<{ remote: string; url: string; r: Replica[] }> {
  const remote = join(box.dir, 'remote.git')
  execFileSync('git', ['init', '-q', '--bare', remote])
  const r: Replica[] = []
  for (const name of names) {
    const path = box.repo(name)
    const rt = await createRuntime({ threads: 1, home: join(box.dir, `home-${name}`) })
    r.push({ rt, path, repo: await rt.repo(path, { agent: name }) })
  }
  t.teardown(async () => {
    for (const x of r) await x.rt.stop()
    box.cleanup()
  })
  return { remote, url: `file://${remote}`, r }
}

t.test('what one replica writes, another reads after both sync; refs are plain git refs', async (t) => {
  const box = sandbox()
  const { remote, url, r: [a, b] } = await replicas(t, box, ['alice', 'bob'])
  const design = await a!.repo.issues.create({ title: 'Design', labels: ['api'] })
  await a!.repo.issues.comment(design.id, 'first draft')
  const pushed = await a!.repo.sync({ remote: url })
  t.equal(pushed.pushed, 1, 'alice pushes her one WAL ref')
  t.equal(pushed.pulled, 0, 'and pulls nothing from an empty remote')
  t.same(refsOf(remote), refsOf(join(a!.path, '.git')), 'the remote now holds exactly alice\'s WAL ref')
  const phases = pushed.phasesMs!
  t.same(Object.keys(phases).sort(), ['fetch', 'flush', 'ingest', 'push'], 'the report says where its time went, phase by phase')
  t.ok(Object.values(phases).every((ms) => Number.isFinite(ms) && ms >= 0), `every phase took a non-negative time: ${JSON.stringify(phases)}`)
  t.ok(phases.fetch + phases.ingest + phases.flush + phases.push <= pushed.durationMs, 'the phases are disjoint parts of the run\'s duration')

  const progress: SyncProgress[] = []
  const pulled = await b!.repo.sync({ remote: url, onProgress: (p) => progress.push(p) })
  t.equal(pulled.pulled, 2, 'bob ingests alice\'s two events')
  t.match(pulled.refs, [{ ref: `wal/${a!.repo.actor}`, from: null, events: 2, status: 'ingested' }])
  t.same(await b!.repo.issues.show(design.id), await a!.repo.issues.show(design.id), 'identical projection on both replicas')
  t.same(walEventIds(b!.path, a!.repo.actor), walEventIds(a!.path, a!.repo.actor), 'bob mirrors alice\'s WAL ref (for relaying)')
  t.ok(progress.some((p) => p.phase === 'ingesting' && p.total > 0 && p.done === p.total), 'progress reached done/total while ingesting')
  t.ok(progress.every((p) => p.done <= p.total), 'progress never passes its total')

  await b!.repo.issues.close(design.id)
  const back = await b!.repo.sync({ remote: url })
  t.equal(back.pulled, 0, 'nothing new for bob')
  t.equal(back.pushed, 1, 'bob pushes his own ref')
  const again = await a!.repo.sync({ remote: url })
  t.equal(again.pulled, 1, 'alice gets bob\'s close')
  t.equal(again.duplicates, 0, 'and does not re-read her own pushed events')
  t.equal((await a!.repo.issues.show(design.id)).state, 'closed')
  const idle = await a!.repo.sync({ remote: url })
  t.match(idle, { pulled: 0, pushed: 0, duplicates: 0 }, 'a sync with nothing new moves nothing')
  t.ok(idle.refs.every((r) => r.status === 'unchanged'), 'every ref unchanged')
  t.same(refsOf(remote), refsOf(join(a!.path, '.git')), 'alice, bob and the remote agree on every WAL ref')
  t.same(refsOf(remote), refsOf(join(b!.path, '.git')))
  t.equal(git(b!.path, 'fsck', '--no-dangling', '--connectivity-only').includes('error'), false, 'git fsck is clean')
})

t.test('single-flight: requests during a run join it and get the same report', async (t) => {
  const box = sandbox()
  const { url, r: [a, b] } = await replicas(t, box, ['a', 'b'])
  for (let i = 0; i < 50; i++) await a!.repo.issues.create({ title: `i${i}` })
  await a!.repo.sync({ remote: url })
  const runs = await Promise.all([b!.repo.sync({ remote: url }), b!.repo.sync({ remote: url }), b!.repo.sync({ remote: url })])
  t.same(runs[1], runs[0], 'the second caller got the first run\'s report')
  t.same(runs[2], runs[0], 'and so did the third')
  t.equal(runs[0]!.pulled, 50, 'the events were ingested once')
  const status = await b!.repo.syncStatus()
  t.equal(status.runs, 1, 'one run served three requests')
  t.match(status, { state: 'idle', failures: 0, lastError: null })
  await b!.repo.issues.create({ title: 'from b' })
  const pullOnly = b!.repo.sync({ remote: url, push: false })
  const both = b!.repo.sync({ remote: url })
  const [p1, p2] = await Promise.all([pullOnly, both])
  t.equal(p1!.pushed, 0, 'different options do not join: the pull-only run pushes nothing')
  t.equal(p2!.pushed, 1, 'the other run, queued behind it, pushes')
  t.equal((await b!.repo.syncStatus()).runs, 3)
})

t.test('a replica relays refs it ingested to another remote', async (t) => {
  const box = sandbox()
  const { url, r: [a, b, c] } = await replicas(t, box, ['a', 'b', 'c'])
  const second = join(box.dir, 'second.git')
  execFileSync('git', ['init', '-q', '--bare', second])
  const issue = await a!.repo.issues.create({ title: 'travels two hops' })
  await a!.repo.sync({ remote: url })
  await b!.repo.sync({ remote: url, push: false })
  const relay = await b!.repo.sync({ remote: `file://${second}` })
  t.equal(relay.pushed, 1, 'bob pushes alice\'s ref (he has no events of his own)')
  await c!.repo.sync({ remote: second })
  t.equal((await c!.repo.issues.show(issue.id)).title, 'travels two hops', 'carol reads alice\'s issue through bob')
})

t.test('a named remote from the repository config works like its URL', async (t) => {
  const box = sandbox()
  const { remote, r: [a] } = await replicas(t, box, ['a'])
  git(a!.path, 'remote', 'add', 'origin', remote)
  await a!.repo.issues.create({ title: 'x' })
  const r = await a!.repo.sync({ remote: 'origin' })
  t.equal(r.url, remote, 'the report names the URL it reached')
  t.equal(r.pushed, 1)
  const err = await a!.repo.sync({ remote: 'upstream' }).catch((e) => e)
  assertCoded(t, err, 'upstream', 'NOT_FOUND', null, 'an unknown remote name is NOT_FOUND')
})

t.test('bad arguments are refused before anything runs', async (t) => {
  const box = sandbox()
  const { url, r: [a] } = await replicas(t, box, ['a'])
  const cases: [unknown, string, string | null][] = [
    [undefined, 'INVALID_ARGUMENT', 'options'],
    [{}, 'INVALID_ARGUMENT', 'remote'],
    [{ remote: '' }, 'INVALID_ARGUMENT', 'remote'],
    [{ remote: 42 }, 'INVALID_ARGUMENT', 'remote'],
    [{ remote: url, pull: 'yes' }, 'INVALID_ARGUMENT', 'pull'],
    [{ remote: url, push: 1 }, 'INVALID_ARGUMENT', 'push'],
    [{ remote: url, pull: false, push: false }, 'INVALID_ARGUMENT', 'pull'],
    [{ remote: url, onProgress: 'x' }, 'INVALID_ARGUMENT', 'onProgress'],
    [{ remote: url, timeoutMs: -1 }, 'INVALID_ARGUMENT', 'timeoutMs'],
    [{ remote: url, signal: {} }, 'INVALID_ARGUMENT', 'signal'],
    [{ remote: 'a\nb' }, 'INVALID_ARGUMENT', 'remote'],
  ]
  for (const [opts, code, field] of cases) {
    const err = await a!.repo.sync(opts as never).catch((e) => e)
    assertCoded(t, err, opts, code, field, `sync(${JSON.stringify(opts)})`)
  }
  const aborted = new AbortController()
  aborted.abort()
  assertCoded(t, await a!.repo.sync({ remote: url, signal: aborted.signal }).catch((e) => e), 'aborted', 'ABORTED', null, 'an aborted signal')
  t.equal((await a!.repo.syncStatus()).runs, 0, 'no run started for any of them')
})

t.test('after a run only its anchor stays; a push-only run banks nothing', async (t) => {
  const box = sandbox()
  const { url, r: [a, b] } = await replicas(t, box, ['a', 'b'])
  await a!.repo.issues.create({ title: 'one' })
  await a!.repo.sync({ remote: url })
  await b!.repo.sync({ remote: url })
  await b!.repo.issues.create({ title: 'two' })
  await b!.repo.sync({ remote: url, pull: false })
  const pullOnly = await a!.repo.sync({ remote: url, push: false })
  t.same({ flush: pullOnly.phasesMs?.flush, push: pullOnly.phasesMs?.push }, { flush: 0, push: 0 }, 'a pull-only run neither flushes nor pushes (its phases say so)')
  await b!.rt.stop()
  const env = open({ path: join(b!.path, '.git', 'cairn'), readOnly: true, ...OPEN_OPTIONS })
  try {
    const keys = [...env.openDB({ name: 'sync' }).getKeys()].map(String)
    t.equal(keys.length, 1, 'one source, one record')
    t.match(keys[0], /^anchor:[0-9a-f]{16}$/, 'the anchor; no run bank left behind')
  } finally {
    await env.close()
  }
})
