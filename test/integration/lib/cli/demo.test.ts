/**
 * `cairn demo`, both ways, short: the embedded agents acknowledge writes, the
 * watcher follows every one, the WAL gets them and nothing fails; the board
 * team works a seeded backlog through a daemon it starts and reports claims
 * and closes. JSON summaries, so the numbers are checked, not the prose.
 */
import { mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { sandbox } from '../../../helpers/tmp-repos.ts'
import { cli, cliProcess, envelope, stopDaemonOf } from '../daemon/daemon-helpers.ts'

const box = sandbox()
t.teardown(async () => { await stopDaemonOf(box.home); box.cleanup() })
const environment = { ...process.env, CAIRN_HOME: box.home }
/** The demo's scratch folders in `tmp` (tsx keeps its cache there too when the CLI runs from the sources). */
const demoFolders = (tmp: string): string[] => readdirSync(tmp).filter((n) => n.startsWith('cairn-demo-'))

t.test('embedded: agents write, a watcher follows each write, the WAL holds them, nothing fails', async (t) => {
  const repo = box.repo('embedded')
  const scratch = join(box.dir, 'tmp-embedded')
  mkdirSync(scratch)
  // A real process: the scratch folder comes from its TMPDIR.
  const r = await cliProcess(['demo', repo, '--agents', '2', '--seconds', '1', '--json'], { cwd: box.dir, env: { ...environment, TMPDIR: scratch } })
  t.equal(r.code, 0, r.stderr)
  t.same(demoFolders(scratch), [], 'the scratch home of a demo on the user\'s repository is gone afterwards')
  const s = envelope(r).data as Record<string, number | string | null | Record<string, number> | unknown[]>
  t.ok((s.writes as number) > 0, `${String(s.writes)} acknowledged writes`)
  t.same(s.errors, {}, 'no errors')
  t.equal(s.newEvents, s.lastSeq, 'a fresh repository: every event came from the run')
  t.equal(s.watched, s.newEvents, 'the watcher followed every event live')
  t.equal(s.walError, null)
  t.equal(s.outbox, 0, 'the WAL flush drained the outbox')
  t.equal(s.walEvents, s.lastSeq, 'every event is in the git WAL')
  t.equal(s.repo, `${repo}/.git`)
})

t.test('embedded without a repository: the demo repository stays for the user to look at', async (t) => {
  const scratch = join(box.dir, 'tmp-own')
  mkdirSync(scratch)
  const r = await cliProcess(['demo', '--agents', '1', '--seconds', '0.5', '--json'], { cwd: box.dir, env: { ...environment, TMPDIR: scratch } })
  t.equal(r.code, 0, r.stderr)
  const s = envelope(r).data as Record<string, unknown>
  const left = demoFolders(scratch)
  t.equal(left.length, 1, 'one scratch folder')
  t.equal(s.repo, join(scratch, left[0]!, 'demo-repo', '.git'), 'the summary names the repository kept')
})

t.test('--board: a team claims and closes seeded issues through the daemon', async (t) => {
  const repo = box.repo('board')
  const r = await cli(['demo', '--board', repo, '--agents', '3', '--issues', '12', '--seconds', '3', '--pace', '50', '--no-ui', '--json'], environment)
  t.equal(r.code, 0, r.stderr)
  const s = envelope(r).data as Record<string, unknown>
  t.equal(s.url, null, '--no-ui serves no board')
  t.equal(s.agents, 3)
  t.equal(s.stalled, null, 'fewer than five agents: nobody stalls')
  t.ok((s.claims as number) > 0 && (s.closed as number) > 0, `${String(s.claims)} claims, ${String(s.closed)} closed`)
  t.ok((s.issues as number) >= 12, 'the seeded backlog, and follow-ups')
  t.same(s.errors, {}, 'no errors')
})
