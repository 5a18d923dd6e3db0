/**
 * Human output never hands stored text's control characters to the
 * terminal: a title, body and comment carrying escape sequences (set window
 * title, clear screen, colours), NUL, a carriage return, a C1 CSI and a
 * bidirectional override print as visible escapes through a real `cairn`
 * process, while --json keeps the stored text exact. (Labels refuse control
 * characters when written.)
 */
import t from 'tap'
import { createRuntime } from '../../../../lib/index.ts'
import { sandbox } from '../../../helpers/tmp-repos.ts'
import { cli, cliProcess, envelope } from '../daemon/daemon-helpers.ts'

const HOSTILE = 'ok\u001b]0;owned\u0007\u001b[2J\u001b[31mred\u0000nul\rback\u202eevil\u009b31m'
// Whatever reaches the terminal: C0 controls other than tab and newline, DEL, C1, bidi overrides.
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/

t.test('stored control characters print as visible escapes', async (t) => {
  const box = sandbox()
  t.teardown(() => box.cleanup())
  const repoPath = box.repo('r')
  const rt = await createRuntime({ home: box.home, threads: 1 })
  t.teardown(() => rt.stop())
  const repo = await rt.repo(repoPath)
  const { id } = await repo.issues.create({ title: HOSTILE, body: `body ${HOSTILE}\nsecond line`, labels: ['bug'] })
  await repo.issues.comment(id, `comment ${HOSTILE}`)
  await rt.stop()
  const environment = { ...process.env, CAIRN_HOME: box.home, CAIRN_AGENT: 'tester' }

  const list = await cliProcess(['issue', 'list', '-C', repoPath, '--no-daemon'], { cwd: repoPath, env: environment })
  t.equal(list.code, 0, `cairn issue list exits 0 (${list.stderr})`)
  t.notMatch(list.stdout, RAW_CONTROL, 'issue list prints no raw control character')
  t.match(list.stdout, 'ok\\x1b]0;owned\\x07\\x1b[2J\\x1b[31mred\\0nul\\rback\\u202eevil\\x9b31m', 'the title shows every escape visibly, on its one line')
  t.equal(list.stdout.trim().split('\n').length, 1, 'one issue, one line')

  const show = await cli(['issue', 'show', id, '-C', repoPath, '--no-daemon'], environment)
  t.equal(show.code, 0)
  t.notMatch(show.stdout, RAW_CONTROL, 'issue show prints no raw control character')
  t.match(show.stdout, 'body ok\\x1b]0;owned', 'the body is escaped')
  t.match(show.stdout, 'comment ok\\x1b]0;owned', 'the comment is escaped')
  t.match(show.stdout, '\nsecond line', 'a body keeps its newlines')

  const events = await cli(['events', '-C', repoPath, '--no-daemon'], environment)
  t.notMatch(events.stdout + events.stderr, RAW_CONTROL, 'events print no raw control character')

  const json = envelope(await cli(['issue', 'show', id, '--json', '-C', repoPath, '--no-daemon'], environment)) as { data: { title: string } }
  t.equal(json.data.title, HOSTILE, '--json keeps the stored title exact')
})
