/** Redaction of credentials in URLs and in text that repeats them (protocol/redact.ts). */
import t from 'tap'
import { hasSecret, redactText, redactUrl, secretsOf } from '../../../protocol/redact.ts'

t.test('passwords are replaced, login names kept', async (t) => {
  t.equal(redactUrl('https://ann:hunter2@git.example/x.git'), 'https://ann:***@git.example/x.git')
  t.equal(redactUrl('http://ann:p%40ss@127.0.0.1:8080/git/r.git'), 'http://ann:***@127.0.0.1:8080/git/r.git')
  t.equal(redactUrl('https://ghp_tokenvalue@github.example/o/r'), 'https://***@github.example/o/r', 'an http user without password may be a token')
  t.equal(redactUrl('ssh://git@host:2222/x.git'), 'ssh://git@host:2222/x.git', 'an ssh user is a login name')
  t.equal(redactUrl('ssh://git:pw@host/x.git'), 'ssh://git:***@host/x.git', 'but an ssh password is not')
  t.equal(redactUrl('git@host:path/x.git'), 'git@host:path/x.git', 'scp-like: no secret')
  t.equal(redactUrl('file:///srv/x.git'), 'file:///srv/x.git')
  t.equal(redactUrl('/srv/x.git'), '/srv/x.git')
  t.equal(redactUrl('https://a:b@c@host/x'), 'https://a:***@host/x', 'the last @ ends the userinfo')
  t.equal(redactUrl('https://host/x?u=a@b'), 'https://host/x?u=a@b', 'an @ after the path is not userinfo')
})

t.test('text: every URL in it, and known secrets in any position', async (t) => {
  const text = "fatal: unable to access 'https://ann:hunter2@host/x/': The requested URL returned error: 401\nTo http://tok@h/y"
  t.equal(redactText(text), "fatal: unable to access 'https://ann:***@host/x/': The requested URL returned error: 401\nTo http://***@h/y")
  t.equal(redactText('password hunter2 echoed', ['hunter2']), 'password *** echoed')
  t.equal(redactText('no urls here'), 'no urls here')
})

t.test('secretsOf and hasSecret', async (t) => {
  t.same(secretsOf('https://ann:p%40ss@host/x'), ['p%40ss', 'p@ss'])
  t.same(secretsOf('https://token@host/x'), ['token'])
  t.same(secretsOf('ssh://git@host/x'), [])
  t.same(secretsOf('https://ann:%ZZ@host/x'), ['%ZZ'], 'a malformed escape is kept raw')
  t.equal(hasSecret('https://ann:pw@host/x'), true)
  t.equal(hasSecret('https://host/x'), false)
})
