/**
 * SIGKILL during a long sync ingest, at least ten times, then let it finish.
 *
 * A source replica (in this process) has AGENTS agents write EVENTS_PER_AGENT
 * events each (a few issues, then comments on them, concurrently) and pushes
 * them to a bare remote. A fresh clone then pulls, in a child process
 * (fixtures/sync-child.ts), that is SIGKILLed at a seeded random short delay
 * once it reports ingest progress made by this run. A run banks each ref at
 * the first commit boundary past every INGEST_BATCH events and at the ref's
 * end, so the history (about 200 WAL commits) spans four banks per ref.
 *
 * Asserted after every kill, reading the clone's LMDB directly while no
 * process holds it:
 * - exactly one run is banked, and the events it claims equal the events the
 *   store holds (bank and events are committed together);
 * - every banked commit is on its ref's pinned target (git CLI);
 * - the next child starts with strictly more events than the previous one
 *   (nothing is lost or rolled back), and its plan (`total`, the commits still
 *   to read) is strictly smaller than the previous run's: it resumes from the
 *   bank rather than from the root.
 * And for the run that completes: `resumedFrom` is exactly what the killed
 * runs banked (> 0), `pulled` is the rest, no duplicates were read; the bank
 * is gone and the anchor holds every ref's tip; the clone holds exactly the
 * source's events and identical projections; its WAL mirrors equal the
 * remote's refs.
 *
 * Replay with CAIRN_FAULT_SEED=<seed printed in the output>.
 */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { isDeepStrictEqual } from 'node:util'
import { open } from 'lmdb'
import { OPEN_OPTIONS } from '../../lib/kernel/store/open-store.ts'
import t from 'tap'
import { createRuntime, type Repo, type Runtime } from '../../lib/index.ts'
import { INGEST_BATCH } from '../../actors/sync/run.ts'
import { bankedEvents, type Anchor, type RunBank } from '../../actors/sync/store.ts'
import { prng } from '../fixtures/child-process.ts'
import { sandbox } from '../helpers/tmp-repos.ts'

const SYNC_CHILD = fileURLToPath(new URL('../fixtures/sync-child.ts', import.meta.url))
const KILLS = 10
const AGENTS = 4
const EVENTS_PER_AGENT = 8_000
const ISSUES_PER_AGENT = 20
/** Writes in flight per agent (all agents together stay under the mailbox capacity). */
const WAVE = 200
const TOTAL = AGENTS * EVENTS_PER_AGENT
const CHILD_TIMEOUT_MS = 30_000
const seed = Number(process.env.CAIRN_FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31))
const rand = prng(seed)

const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim()
const walRefs = (cwd: string): string => git(cwd, 'for-each-ref', '--format=%(refname) %(objectname)', 'refs/cairn/wal/')
function isAncestor(cwd: string, a: string, b: string): boolean {
  try {
    execFileSync('git', ['merge-base', '--is-ancestor', a, b], { cwd, stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

type Line = Record<string, unknown>
interface Progress { phase: string; done: number; total: number }

/** One sync child: its stdout as JSON lines; every wait bounded, failing with the stderr tail. */
class SyncChild {
  readonly proc: ChildProcessWithoutNullStreams
  readonly lines: Line[] = []
  exit: { code: number | null; signal: NodeJS.Signals | null } | null = null
  stderr = ''
  #buf = ''
  #wake = new Set<() => void>()

  constructor(home: string, repo: string, remote: string) {
    const env = { ...process.env }
    delete env.NODE_V8_COVERAGE
    this.proc = spawn(process.execPath, ['--import=tsx', SYNC_CHILD, home, repo, remote], { stdio: ['pipe', 'pipe', 'pipe'], env })
    this.proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      this.#buf += chunk
      for (let i = this.#buf.indexOf('\n'); i >= 0; i = this.#buf.indexOf('\n')) {
        const text = this.#buf.slice(0, i)
        this.#buf = this.#buf.slice(i + 1)
        try { this.lines.push(JSON.parse(text) as Line) } catch { this.lines.push({ unparsed: text }) }
      }
      this.#notify()
    })
    this.proc.stderr.setEncoding('utf8').on('data', (c: string) => { this.stderr = (this.stderr + c).slice(-8000) })
    this.proc.stdin.on('error', () => undefined)
    this.proc.on('close', (code, signal) => {
      this.exit = { code, signal }
      this.#notify()
    })
  }

  #notify(): void { for (const w of [...this.#wake]) w() }

  /** Resolves with the first defined `pick()`; rejects on timeout, or on exit first. */
  waitFor<T>(what: string, pick: () => T | undefined, timeoutMs = CHILD_TIMEOUT_MS): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const v = pick()
        if (v !== undefined) finish(() => resolve(v))
        else if (this.exit) finish(() => reject(new Error(`child exited before ${what}: ${this.describe()}`)))
      }
      const timer = setTimeout(() => finish(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${this.describe()}`))), timeoutMs)
      const finish = (then: () => void): void => {
        clearTimeout(timer)
        this.#wake.delete(check)
        then()
      }
      this.#wake.add(check)
      check()
    })
  }

  line(key: string): Promise<Line> { return this.waitFor(`a "${key}" line`, () => this.lines.find((l) => key in l)) }

  ingestProgress(): Progress[] {
    return this.lines.map((l) => l.progress as Progress | undefined).filter((p): p is Progress => p?.phase === 'ingesting')
  }

  async kill(): Promise<NonNullable<SyncChild['exit']>> {
    if (!this.exit) process.kill(this.proc.pid!, 'SIGKILL')
    return this.waitFor('exit', () => this.exit ?? undefined)
  }

  describe(): string {
    return `pid ${this.proc.pid} exit=${JSON.stringify(this.exit)}; last lines ${JSON.stringify(this.lines.slice(-3))}; stderr:\n${this.stderr.slice(-3000)}`
  }
}

/** The clone's store as LMDB holds it (opened read-only while no process uses it). */
function readStore(clone: string): { events: number; banks: [string, RunBank][]; anchors: [string, Anchor][] } {
  const env = open({ path: join(clone, '.git', 'cairn'), readOnly: true, ...OPEN_OPTIONS })
  try {
    const events = env.openDB({ name: 'issue-events' }).getCount()
    const sync = env.openDB<unknown, string>({ name: 'sync' })
    const all = [...sync.getRange()].map(({ key, value }) => [String(key), value] as const)
    return {
      events,
      banks: all.filter(([k]) => k.startsWith('run:')) as [string, RunBank][],
      anchors: all.filter(([k]) => k.startsWith('anchor:')) as [string, Anchor][],
    }
  } finally {
    env.close()
  }
}

/** Every event id of a replica's log, sorted (bounded paging). */
async function allIds(repo: Repo): Promise<string[]> {
  const ids: string[] = []
  for (let fromSeq = 1, page = 0; page < 1_000; page++) {
    const batch = await repo.events.read({ fromSeq, limit: 1000 })
    if (batch.length === 0) break
    for (const e of batch) ids.push(e.event.eventId)
    fromSeq = batch[batch.length - 1]!.seq + 1
  }
  return ids.sort()
}

async function projections(repo: Repo): Promise<Map<string, unknown>> {
  const list = await repo.issues.list({ state: 'all' })
  return new Map(await Promise.all(list.map(async (i) => [i.id, await repo.issues.show(i.id)] as const)))
}

/** AGENTS agents write EVENTS_PER_AGENT events each: ISSUES_PER_AGENT creates, then comments, WAVE at a time per agent, flushed per wave. */
async function writeSource(rt: Runtime, path: string): Promise<{ ids: string[]; board: Map<string, unknown>; repo: Repo }> {
  const agents = await Promise.all(Array.from({ length: AGENTS }, (_, k) => rt.repo(path, { agent: `writer-${k}` })))
  const mine = await Promise.all(agents.map((a, k) =>
    Promise.all(Array.from({ length: ISSUES_PER_AGENT }, (_, n) => a.issues.create({ title: `issue ${n} of writer ${k}` }).then((p) => p.id)))))
  for (let written = ISSUES_PER_AGENT; written < EVENTS_PER_AGENT;) {
    const n = Math.min(WAVE, EVENTS_PER_AGENT - written)
    await Promise.all(agents.flatMap((a, k) => Array.from({ length: n }, (_, j) =>
      a.issues.comment(mine[k]![(written + j) % ISSUES_PER_AGENT]!, `comment ${written + j} by writer ${k}`))))
    written += n
    // One WAL commit per writer and wave: a long history of small commits.
    await agents[0]!.wal.flush()
  }
  return { ids: await allIds(agents[0]!), board: await projections(agents[0]!), repo: agents[0]! }
}

t.test(`SIGKILL a ${TOTAL}-event sync ingest ${KILLS} times: every run resumes from its bank, the last converges`, async (t) => {
  t.comment(`seed ${seed} (CAIRN_FAULT_SEED to replay)`)
  const sb = sandbox()
  const children: SyncChild[] = []
  const runtimes: Runtime[] = []
  t.teardown(async () => {
    await Promise.all(children.map((c) => c.kill().catch(() => undefined)))
    await Promise.all(runtimes.map((rt) => rt.stop().catch(() => undefined)))
    sb.cleanup()
  })
  const remotePath = join(sb.dir, 'remote.git')
  execFileSync('git', ['init', '-q', '--bare', remotePath])
  const remote = `file://${remotePath}`
  const cloneHome = join(sb.dir, 'clone-home')
  mkdirSync(cloneHome)
  const clone = sb.repo('clone')

  let started = Date.now()
  const sourceRt = await createRuntime({ home: join(sb.dir, 'source-home'), threads: 1 })
  runtimes.push(sourceRt)
  const source = await writeSource(sourceRt, sb.repo('source'))
  const pushed = await source.repo.sync({ remote, pull: false, timeoutMs: 120_000 })
  await sourceRt.stop()
  t.equal(source.ids.length, TOTAL, `the source wrote ${TOTAL} events`)
  t.equal(pushed.pushed, AGENTS, `the source pushed one WAL ref per writer (${Date.now() - started} ms)`)
  // `wal/<actor>` → tip, as the sync names refs.
  const tips = new Map(walRefs(remotePath).split('\n').map((l) => {
    const [ref, sha] = l.split(' ') as [string, string]
    return [ref.slice('refs/cairn/'.length), sha] as const
  }))
  const commits = [...tips.values()].reduce((n, sha) => n + Number(git(remotePath, 'rev-list', '--count', '--first-parent', sha)), 0)
  t.comment(`${TOTAL} events in ${commits} WAL commits on ${tips.size} refs; ingest banks every ${INGEST_BATCH} events`)

  started = Date.now()
  const starts: number[] = []
  const plans: number[] = []
  let kills = 0
  for (let attempt = 0; attempt < KILLS; attempt++) {
    const child = new SyncChild(cloneHome, clone, remote)
    children.push(child)
    const start = (await child.line('start')).start as number
    // Progress made by this run: an ingest frame with done > 0 comes only after a batch and its bank committed.
    const seen = await child.waitFor('ingest progress from this run', () => child.ingestProgress().find((p) => p.done > 0))
    const delay = Math.floor(rand() * 25)
    await new Promise((r) => setTimeout(r, delay)) // the kill point, not a wait for a condition
    const exit = await child.kill()
    if (exit.signal !== 'SIGKILL') {
      t.fail(`child ${attempt} finished before its kill (${JSON.stringify(exit)}): the ingest is too short to kill ${KILLS} times`)
      break
    }
    kills++
    starts.push(start)
    plans.push(seen.total)
    const store = readStore(clone)
    const banked = store.banks.map(([, b]) => bankedEvents(b))
    t.same({ banks: store.banks.length, banked }, { banks: 1, banked: [store.events] },
      `kill ${kills} (+${delay} ms after done=${seen.done}/${seen.total}): one bank, claiming exactly the ${store.events} events the store holds`)
    const bank = store.banks[0]?.[1]
    const offTarget = Object.entries(bank?.progress ?? {}).filter(([ref, p]) => bank?.targets[ref] !== tips.get(ref) || !isAncestor(clone, p.commit, tips.get(ref)!))
    t.same(offTarget, [], 'every banked commit lies on its ref\'s pinned target (the remote tip)')
  }
  t.equal(kills, KILLS, `${KILLS} runs were SIGKILLed mid-ingest (${Date.now() - started} ms)`)
  t.equal(starts[0], 0, 'the first run started from an empty store')
  t.equal(plans[0], commits, 'the first run planned every commit of every ref (nothing banked yet)')
  t.same(starts.filter((s, i) => i > 0 && s <= starts[i - 1]!), [], `each killed run started with more events than the one before: ${starts.join(' → ')}`)
  t.same(plans.filter((p, i) => i > 0 && p >= plans[i - 1]!), [], `each killed run planned fewer commits than the one before (resumed, not restarted): ${plans.join(' → ')}`)

  const last = new SyncChild(cloneHome, clone, remote)
  children.push(last)
  const resumeAt = (await last.line('start')).start as number
  const done = await last.line('report')
  t.same(await last.waitFor('exit', () => last.exit ?? undefined), { code: 0, signal: null }, 'the last run completes and exits 0')
  const report = done.report as { pulled: number; duplicates: number; resumedFrom: number; diverged: string[]; refs: { ref: string; to: string; status: string }[] }
  t.ok(resumeAt > starts[starts.length - 1]!, `the last run started from ${resumeAt} banked events`)
  t.same({ resumedFrom: report.resumedFrom, pulled: report.pulled, duplicates: report.duplicates, diverged: report.diverged },
    { resumedFrom: resumeAt, pulled: TOTAL - resumeAt, duplicates: 0, diverged: [] },
    'the completing run reused every banked event (resumedFrom) and read only the rest, nothing twice')
  t.ok(report.pulled < TOTAL && report.resumedFrom > 0, `resumed: ${report.resumedFrom} reused + ${report.pulled} pulled = ${TOTAL}`)
  t.same(report.refs.map((r) => [r.ref, r.to]).sort(), [...tips].sort(), 'the report covers every remote ref up to its tip')
  t.equal((done.stats as { events: number }).events, TOTAL, `the clone holds ${TOTAL} events`)

  const store = readStore(clone)
  t.same(store.banks, [], 'the completed run removed its bank')
  t.same(store.anchors.map(([, a]) => Object.entries(a.refs).sort()), [[...tips].sort()], 'the anchor holds every ref\'s tip')
  t.equal(walRefs(clone), walRefs(remotePath), 'the clone\'s refs/cairn/wal/* mirror the remote\'s (git CLI)')

  const rt = await createRuntime({ home: cloneHome, threads: 1 })
  runtimes.push(rt)
  const repo = await rt.repo(clone, { agent: 'reader' })
  const ids = await allIds(repo)
  const want = new Set(source.ids)
  const got = new Set(ids)
  t.same({ count: ids.length, missing: source.ids.filter((id) => !got.has(id)).slice(0, 5), extra: ids.filter((id) => !want.has(id)).slice(0, 5) },
    { count: TOTAL, missing: [], extra: [] }, 'the clone holds exactly the source\'s event ids, each once')
  const board = await projections(repo)
  t.same([...board.keys()].sort(), [...source.board.keys()].sort(), `the same ${source.board.size} issues`)
  t.same([...source.board].filter(([id, p]) => !isDeepStrictEqual(board.get(id), p)).map(([id]) => id).slice(0, 5), [],
    'every issue\'s full projection equals the source\'s')
  await rt.stop()
})
