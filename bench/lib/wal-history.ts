/**
 * A WAL history like many agents leave it, written straight into a bare
 * repository with `git fast-import` in about a second: `agents` refs
 * `refs/cairn/wal/<actor>`, `commits` WAL commits in all holding `events`
 * events (one or two per commit, as a drain under steady load writes them),
 * in grite's layout (meta.json + one GRITECNK chunk, `prev_wal` = the
 * parent), with real event ids. Cairn reads it like any other WAL (every
 * commit is checked on the way in), so it measures fetch + ingest of a
 * team's history without waiting for a team to write it.
 *
 * Commit ids are computed here (SHA-1 of git's object encoding) because
 * each commit's meta.json names its parent's id; fast-import then writes
 * exactly those objects (the test checks the ids agree).
 */
import { createHash } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { computeEventId, encodeChunk, type CairnEvent, type EventInput } from '../../protocol/events/index.ts'
import { chunkHashOf } from '../../protocol/events/chunk.ts'
import { encodeMeta } from '../../lib/adapters/git/wal-format.ts'
import { mulberry32 } from '../../test/helpers/prng.ts'

export interface HistoryShape { agents: number; commits: number; events: number; seed?: number }
export interface WrittenHistory { refs: Map<string, string>; events: number; commits: number }

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0)
const sha1 = (type: string, body: Buffer): Buffer => createHash('sha1').update(`${type} ${body.length}\0`).update(body).digest()
const hex = (n: number, rand: () => number): string => Array.from({ length: n }, () => Math.floor(rand() * 256).toString(16).padStart(2, '0')).join('')

function tree(entries: { mode: string; name: string; id: Buffer }[]): { id: Buffer; body: Buffer } {
  // git orders entries by name, a tree's name compared as if it ended in '/'.
  const key = (e: { mode: string; name: string }): string => (e.mode === '40000' ? `${e.name}/` : e.name)
  const sorted = [...entries].sort((a, b) => (key(a) < key(b) ? -1 : 1))
  const body = Buffer.concat(sorted.flatMap((e) => [Buffer.from(`${e.mode} ${e.name}\0`), e.id]))
  return { id: sha1('tree', body), body }
}

/**
 * Writes the history into the bare repository `gitDir` and returns its refs.
 * @example const h = writeWalHistory('/tmp/r.git', { agents: 30, commits: 6855, events: 9690 })
 */
export function writeWalHistory(gitDir: string, shape: HistoryShape): WrittenHistory {
  const rand = mulberry32(shape.seed ?? 7)
  const actors = Array.from({ length: shape.agents }, () => hex(16, rand))
  const parts: Buffer[] = []
  const refs = new Map<string, string>()
  const parents = new Map<string, string | null>(actors.map((a) => [a, null]))
  const issues = new Map<string, string[]>(actors.map((a) => [a, []]))
  const doubles = shape.events - shape.commits
  let written = 0
  for (let c = 0; c < shape.commits; c++) {
    const actor = actors[c % actors.length] as string
    const count = c < doubles ? 2 : 1
    const ts = T0 + c * 37
    const events: CairnEvent[] = []
    for (let i = 0; i < count; i++) {
      const own = issues.get(actor) as string[]
      let input: EventInput
      if (own.length === 0 || rand() < 0.2) {
        const issueId = hex(16, rand)
        own.push(issueId)
        input = { issueId, actor, tsUnixMs: ts + i, parent: null, kind: { type: 'IssueCreated', title: `issue ${own.length} of ${actor.slice(0, 6)}`, body: 'from the bench history', labels: ['bench'] } }
      } else {
        const issueId = own[Math.floor(rand() * own.length)] as string
        input = { issueId, actor, tsUnixMs: ts + i, parent: null, kind: { type: 'CommentAdded', body: `step ${c}.${i}: progress note` } }
      }
      events.push({ ...input, eventId: computeEventId(input) })
    }
    written += events.length
    const chunk = Buffer.from(encodeChunk(events))
    const chunkHash = chunkHashOf(chunk)
    const prev = parents.get(actor) ?? null
    const meta = Buffer.from(encodeMeta({ schema_version: 1, actor_id: actor, chunk_hash: chunkHash, prev_wal: prev }))
    const d = new Date(ts)
    const p2 = (n: number): string => String(n).padStart(2, '0')
    const dirs = [String(d.getUTCFullYear()), p2(d.getUTCMonth() + 1), p2(d.getUTCDate())]
    let sub = tree([{ mode: '100644', name: `${chunkHash}.bin`, id: sha1('blob', chunk) }])
    for (const name of [...dirs].reverse()) sub = tree([{ mode: '40000', name, id: sub.id }])
    const root = tree([{ mode: '40000', name: 'events', id: sub.id }, { mode: '100644', name: 'meta.json', id: sha1('blob', meta) }])
    const secs = Math.floor(ts / 1000)
    const message = `WAL: ${count} events from ${actor.slice(0, 8)}\n`
    const body = Buffer.from(`tree ${root.id.toString('hex')}\n${prev ? `parent ${prev}\n` : ''}author cairn <cairn@localhost> ${secs} +0000\ncommitter cairn <cairn@localhost> ${secs} +0000\n\n${message}`)
    const id = sha1('commit', body).toString('hex')
    parts.push(Buffer.from(`commit refs/cairn/wal/${actor}\ncommitter cairn <cairn@localhost> ${secs} +0000\ndata ${Buffer.byteLength(message)}\n${message}`))
    // No `from`: fast-import continues each ref from its own last commit, which is `prev`.
    parts.push(Buffer.from(`deleteall\nM 100644 inline meta.json\ndata ${meta.length}\n`), meta,
      Buffer.from(`\nM 100644 inline events/${dirs.join('/')}/${chunkHash}.bin\ndata ${chunk.length}\n`), chunk, Buffer.from('\n\n'))
    parents.set(actor, id)
    refs.set(`refs/cairn/wal/${actor}`, id)
  }
  execFileSync('git', ['--git-dir', gitDir, 'fast-import', '--quiet', '--date-format=raw'], {
    input: Buffer.concat(parts), maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, GIT_AUTHOR_NAME: 'cairn', GIT_AUTHOR_EMAIL: 'cairn@localhost' },
  })
  for (const [ref, id] of refs) {
    const actual = execFileSync('git', ['--git-dir', gitDir, 'rev-parse', ref], { encoding: 'utf8' }).trim()
    if (actual !== id) throw new Error(`wal-history: ${ref} is ${actual}, computed ${id} (the object encoding here is off)`)
  }
  return { refs, events: written, commits: shape.commits }
}
