/**
 * Answers larger than one frame travel: an issue with nine 1 MiB comments
 * (each within limits, together past MAX_FRAME_BYTES) reads through a real
 * daemon process, with the client and with a real `cairn issue show`; its
 * history too. A client whose hello does not offer to join reply parts gets
 * a coded error reply for it instead, and its connection carries on.
 */
import t from 'tap'
import { connect } from '../../../../lib/daemon/client.ts'
import { MAX_FRAME_BYTES } from '../../../../protocol/framing.ts'
import { sandbox } from '../../../helpers/tmp-repos.ts'
import { cliProcess, daemonProcess, env, framed, hello, Raw } from './daemon-helpers.ts'

t.test('an issue past one frame reads through the daemon', async (t) => {
  const box = sandbox()
  t.teardown(() => box.cleanup())
  const repo = box.repo('big')
  const d = daemonProcess(t, box.home, ['--idle-timeout', '0'])
  const socket = (await d.ready).data!.socket
  const c = await connect(box.home)
  t.teardown(() => c.close())
  const { id } = await c.request<{ id: string }>('issues.create', { repo, args: { title: 'long thread' } })
  for (let i = 0; i < 9; i++) await c.request('issues.comment', { repo, args: { id, body: String(i).repeat(1024 * 1024) } })

  const shown = await c.request<{ comments: { body: string }[] }>('issues.show', { repo, args: { id } })
  t.equal(shown.comments.length, 9, 'issues.show answers all nine comments')
  t.ok(shown.comments.every((x, i) => x.body === String(i).repeat(1024 * 1024)), 'each one whole')
  t.ok(shown.comments.reduce((n, x) => n + x.body.length, 0) > MAX_FRAME_BYTES, 'together past one frame')
  const history = await c.request<unknown[]>('issues.history', { repo, args: { id } })
  t.equal(history.length, 10, 'issues.history answers the create and the nine comments')
  t.equal((await c.request<{ title: string }>('issues.show', { repo, args: { id } })).title, 'long thread', 'the connection carries on')

  const cli = await cliProcess(['issue', 'show', id, '--json', '-C', repo], { cwd: repo, env: { ...process.env, CAIRN_HOME: box.home } })
  t.equal(cli.code, 0, `cairn issue show exits 0 (${cli.stderr.slice(0, 200)})`)
  t.equal(JSON.parse(cli.stdout).data.comments.length, 9, 'and prints every comment')

  const old = await Raw.open(socket)
  old.write(hello(0))
  old.write(framed(env(1, 'issues.show', { repo, args: { id } })))
  old.write(framed(env(2, 'ping')))
  const refused = await old.reply(1)
  t.match(refused.body, { ok: false, error: { code: 'INVALID_ARGUMENT' } }, 'a client without parts gets a coded error reply')
  t.match((await old.reply(2)).body, { ok: true }, 'and its connection carries on')
  old.close()
})
