/**
 * `npm start`, run as a user runs it: `npm --prefix <cairn> start` from
 * another folder (npm runs the script in the package's folder and passes
 * the caller's in INIT_CWD). It serves the repository the user is in, or the
 * one named relative to it, or, outside any repository, a demo repository;
 * its status line's hint is a command that works from any folder; bad flags
 * exit 2. Each run gets its own home and is stopped through that hint.
 */
import t from 'tap'
import { execFileSync, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT, run } from '../../helpers/packed-package.ts'

const scratch = mkdtempSync(join(tmpdir(), 'cairn-start-'))
t.teardown(() => rmSync(scratch, { recursive: true, force: true }))

interface Started { line: string; hint: string; stop(): Promise<string> }

/** `npm --prefix ROOT start -- <args>` from `cwd`, until its status line. */
function npmStart(cwd: string, home: string, args: string[] = []): Promise<Started> {
  const child = spawn('npm', ['--prefix', ROOT, 'start', '--', '--home', home, '--idle-timeout', '120', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: scratch } })
  let out = ''
  let err = ''
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()))
  const killer = setTimeout(() => child.kill('SIGKILL'), 180_000)
  void exited.then(() => clearTimeout(killer))
  child.stderr.setEncoding('utf8').on('data', (s: string) => { err += s })
  return new Promise((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s
      const line = out.split('\n').find((l) => l.startsWith('cairn: daemon pid'))
      if (line === undefined || !out.slice(out.indexOf(line)).includes('\n')) return
      const hint = /try `([^`]+)`/.exec(line)?.[1] ?? ''
      resolve({
        line,
        hint,
        stop: async () => {
          // The hint's own command line, with `daemon stop` instead of `issue list`.
          await runHint(`${hint.slice(0, hint.indexOf(' issue list'))} daemon stop --home '${home}'`)
          await exited
          return out
        },
      })
    })
    void exited.then(() => reject(new Error(`npm start ended before serving: ${out}${err}`)))
  })
}

/** Runs a hint from `/` with a minimal environment: nothing of this checkout's shell. */
function runHint(hint: string) {
  return run('sh', ['-c', hint], { cwd: '/', env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: process.env.HOME ?? '/' } })
}

const mine = join(scratch, 'mine')
execFileSync('git', ['init', '-q', mine])
mkdirSync(join(mine, 'sub'))
const other = join(scratch, 'other')
execFileSync('git', ['init', '-q', other])
const nowhere = join(scratch, 'no-repo-here')
mkdirSync(nowhere)

// The three go at once, each with its own home.
const fromRepo = npmStart(join(mine, 'sub'), join(scratch, 'home-a'))
const named = npmStart(mine, join(scratch, 'home-b'), ['../other'])
const demo = npmStart(nowhere, join(scratch, 'home-c'))
for (const p of [fromRepo, named, demo]) p.catch(() => undefined)

t.test('from a folder inside a repository: that repository, and a hint that works from /', async (t) => {
  const s = await fromRepo
  t.match(s.line, `repository ${join(mine, '.git')}`, 'the repository npm was run from, not Cairn\'s checkout')
  t.match(s.line, '(0 issues, 0 events)')
  const listed = await runHint(`${s.hint} --json`)
  t.equal(listed.status, 0, listed.stderr)
  t.same(JSON.parse(listed.stdout), { ok: true, data: [] })
  t.match(await s.stop(), 'cairn: daemon stopped')
})

t.test('a repository named relative to the folder npm was run from', async (t) => {
  const s = await named
  t.match(s.line, `repository ${join(other, '.git')}`)
  t.match(await s.stop(), 'cairn: daemon stopped')
})

t.test('outside any repository: a demo repository with two issues, listed by the hint', async (t) => {
  const s = await demo
  t.match(s.line, '(2 issues, 3 events, demo)')
  t.match(s.line, `repository ${join(scratch, 'cairn-demo-')}`, 'made in the temp dir (here the test\'s own), kept for the user to look at')
  const listed = await runHint(`${s.hint} --json`)
  t.equal(listed.status, 0, listed.stderr)
  t.same((JSON.parse(listed.stdout) as { data: { title: string }[] }).data.map((i) => i.title).sort(), ['Build it', 'Design the API'])
  t.match(await s.stop(), 'cairn: daemon stopped')
})

t.test('bad flags exit 2 with a message', async (t) => {
  for (const args of [['--idle-timeout', 'soon'], ['--frobnicate'], ['a', 'b']]) {
    const r = await run('npm', ['--prefix', ROOT, '--silent', 'start', '--', '--home', join(scratch, 'home-bad'), ...args], { cwd: mine, env: process.env })
    t.equal(r.status, 2, `${args.join(' ')}: exit 2`)
    t.match(r.stderr, /^cairn start: /m, 'a message naming the problem')
  }
})
