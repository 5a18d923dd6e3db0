/**
 * parseCommand: every issue command (and identity.resolve) accepts and
 * normalises valid input, and refuses each malformed field with
 * INVALID_ARGUMENT whose `details.field` names that field.
 */
import t from 'tap'
import { CairnError } from '../../../../protocol/errors.ts'
import { MESSAGE_TYPES as M } from '../../../../protocol/messages.ts'
import { LIMITS, parseCommand } from '../../../../actors/repo-worker/commands/parse.ts'
import { throwsCoded, type Test } from '../../../helpers/coded-error.ts'
type Body = Record<string, unknown>

const ACTOR = '0123456789abcdef0123456789abcdef'
const ID = 'fedcba9876543210fedcba9876543210'
const SHA = 'ab'.repeat(32)
const LONE_HIGH = 'a\ud800b'
const LONE_LOW = '\udc00'

/** Asserts parseCommand refuses `body` with INVALID_ARGUMENT naming `field` (in details and message). */
function refuses(t: Test, type: string, body: unknown, field: string, what: string): void {
  throwsCoded(t, () => parseCommand({ type, body }), 'INVALID_ARGUMENT', field, `${type}: ${what} -> INVALID_ARGUMENT ${field}`, { messageNamesField: true })
}

/** Valid base bodies per command type; cases override one field at a time. */
const VALID: Record<string, Body> = {
  [M.issueCreate]: { actor: ACTOR, title: 'T' },
  [M.issueUpdate]: { actor: ACTOR, id: ID, title: 'T' },
  [M.issueComment]: { actor: ACTOR, id: ID, body: 'hi' },
  [M.issueState]: { actor: ACTOR, id: ID, state: 'closed' },
  [M.issueLabel]: { actor: ACTOR, id: ID, add: ['bug'] },
  [M.issueAssign]: { actor: ACTOR, id: ID, add: ['ann'] },
  [M.issueLink]: { actor: ACTOR, id: ID, url: 'https://example.com/x' },
  [M.issueAttach]: { actor: ACTOR, id: ID, name: 'log.txt', sha256: SHA, mime: 'text/plain' },
  [M.issueDepend]: { actor: ACTOR, id: ID, target: 'abcd', type: 'blocks' },
}
const ISSUE_TYPES = Object.keys(VALID)
const WITH_ID = ISSUE_TYPES.filter((x) => x !== M.issueCreate)

t.test('valid commands parse to checked, normalised values', async (t) => {
  t.same(parseCommand({ type: M.identity, body: { agent: 'agent-1', opId: 'ignored' } }), { type: 'identity', agent: 'agent-1', opId: null })
  t.same(parseCommand({ type: M.issueCreate, body: { actor: ACTOR, title: 'T' } }),
    { actor: ACTOR, opId: null, leaseToken: null, type: 'create', title: 'T', body: '', labels: [] }, 'create defaults: empty body, no labels, no opId')
  t.same(parseCommand({ type: M.issueCreate, body: { actor: ACTOR, title: 'T', body: null, labels: null, opId: null } }),
    { actor: ACTOR, opId: null, leaseToken: null, type: 'create', title: 'T', body: '', labels: [] }, 'null optional fields take their defaults')
  t.same(parseCommand({ type: M.issueCreate, body: { actor: ACTOR, title: 'T', body: '', labels: ['z', 'a', 'm', 'a', 'z'], opId: 'op-1' } }),
    { actor: ACTOR, opId: 'op-1', leaseToken: null, type: 'create', title: 'T', body: '', labels: ['a', 'm', 'z'] }, 'labels deduplicated and sorted')
  t.equal((parseCommand({ type: M.issueCreate, body: { actor: ACTOR, title: 't'.repeat(LIMITS.title), body: '  ' } }) as { title: string }).title.length,
    LIMITS.title, 'a title of exactly LIMITS.title characters is accepted')
  t.same(parseCommand({ type: M.issueUpdate, body: { actor: ACTOR, id: 'ABCDEF', body: '' } }),
    { actor: ACTOR, opId: null, leaseToken: null, type: 'update', id: 'abcdef', title: null, body: '' }, 'update: id prefix lowercased, body alone is enough')
  t.same(parseCommand({ type: M.issueUpdate, body: { actor: ACTOR, id: ID.toUpperCase(), title: 'New' } }),
    { actor: ACTOR, opId: null, leaseToken: null, type: 'update', id: ID, title: 'New', body: null }, 'update: full uppercase id lowercased')
  t.same(parseCommand({ type: M.issueComment, body: { actor: ACTOR, id: 'aBcD', body: 'x' } }),
    { actor: ACTOR, opId: null, leaseToken: null, type: 'comment', id: 'abcd', body: 'x' })
  t.same(parseCommand({ type: M.issueState, body: { actor: ACTOR, id: ID, state: 'open' } }),
    { actor: ACTOR, opId: null, leaseToken: null, type: 'state', id: ID, state: 'open', reason: null, leaseId: null })
  for (const [type, kind] of [[M.issueLabel, 'label'], [M.issueAssign, 'assign']] as const) {
    t.same(parseCommand({ type, body: { actor: ACTOR, id: ID, add: ['b', 'a', 'b'], remove: ['d', 'c', 'c'] } }),
      { actor: ACTOR, opId: null, leaseToken: null, type: kind, id: ID, add: ['a', 'b'], remove: ['c', 'd'] }, `${kind}: add/remove deduplicated and sorted`)
    t.same(parseCommand({ type, body: { actor: ACTOR, id: ID, remove: ['x'] } }),
      { actor: ACTOR, opId: null, leaseToken: null, type: kind, id: ID, add: [], remove: ['x'] }, `${kind}: remove alone, add defaults to []`)
  }
  t.same(parseCommand({ type: M.issueLink, body: { actor: ACTOR, id: ID, url: 'https://example.com/a?b=c', note: 'see' } }),
    { actor: ACTOR, opId: null, leaseToken: null, type: 'link', id: ID, url: 'https://example.com/a?b=c', note: 'see' })
  t.same(parseCommand({ type: M.issueLink, body: { actor: ACTOR, id: ID, url: 'mailto:a@b.c' } }),
    { actor: ACTOR, opId: null, leaseToken: null, type: 'link', id: ID, url: 'mailto:a@b.c', note: null }, 'link: note defaults to null')
  t.same(parseCommand({ type: M.issueAttach, body: { actor: ACTOR, id: ID, name: 'a b.txt', sha256: SHA, mime: 'application/vnd.api+json' } }),
    { actor: ACTOR, opId: null, leaseToken: null, type: 'attach', id: ID, name: 'a b.txt', sha256: SHA, mime: 'application/vnd.api+json' })
  for (const depType of ['blocks', 'depends_on', 'related_to']) {
    t.same(parseCommand({ type: M.issueDepend, body: { actor: ACTOR, id: 'ABCD', target: 'EF01', type: depType } }),
      { actor: ACTOR, opId: null, leaseToken: null, type: 'depend', id: 'abcd', target: 'ef01', depType, remove: false }, `depend ${depType}: prefixes lowercased, remove defaults to false`)
  }
  t.equal((parseCommand({ type: M.issueDepend, body: { ...VALID[M.issueDepend], remove: true } }) as { remove: boolean }).remove, true)
  t.equal(parseCommand({ type: M.issueState, body: { ...VALID[M.issueState], opId: 'o'.repeat(LIMITS.opId) } }).opId,
    'o'.repeat(LIMITS.opId), 'an opId of exactly LIMITS.opId characters is accepted')
  const names64 = Array.from({ length: LIMITS.perCall }, (_, i) => `l${String(i).padStart(2, '0')}`)
  t.same((parseCommand({ type: M.issueLabel, body: { actor: ACTOR, id: ID, add: [...names64].reverse() } }) as { add: string[] }).add,
    names64, 'LIMITS.perCall entries are accepted')
})

t.test('a body that is not an object, or an unknown type', async (t) => {
  for (const type of [M.identity, ...ISSUE_TYPES]) {
    for (const body of ['x', 7, true, [], [{ actor: ACTOR }]]) refuses(t, type, body, 'body', `body ${JSON.stringify(body)}`)
  }
  refuses(t, M.identity, null, 'agent', 'null body is an empty body: agent is missing')
  refuses(t, M.issueCreate, undefined, 'actor', 'undefined body is an empty body: actor is missing')
  for (const type of ['issues.bogus', M.issueShow, M.append, '']) refuses(t, type, { actor: ACTOR }, 'type', `type ${JSON.stringify(type)}`)
})

t.test('identity.resolve: bad agent names', async (t) => {
  const bad: [unknown, string][] = [
    [undefined, 'missing'], [null, 'null'], [7, 'a number'], [['a'], 'an array'], ['', 'empty'],
    [' a', 'leading space'], ['a ', 'trailing space'], ['\ta', 'leading tab'], ['a\nb', 'a newline'], ['a\u0000b', 'NUL'],
    ['a\u007fb', 'DEL'], ['a\u0085b', 'C1 NEL'], ['a\u2028b', 'line separator'], [LONE_HIGH, 'lone high surrogate'],
    [LONE_LOW, 'lone low surrogate'], ['a'.repeat(LIMITS.agent + 1), 'too long'],
  ]
  for (const [agent, what] of bad) refuses(t, M.identity, agent === undefined ? {} : { agent }, 'agent', what)
  t.equal((parseCommand({ type: M.identity, body: { agent: 'a'.repeat(LIMITS.agent) } }) as { agent: string }).agent.length, LIMITS.agent)
  t.equal((parseCommand({ type: M.identity, body: { agent: 'zoë 🚀' } }) as { agent: string }).agent, 'zoë 🚀', 'non-ASCII names are fine')
})

t.test('every issue command: bad actor, bad opId', async (t) => {
  const actors: [unknown, string][] = [
    [undefined, 'missing'], [null, 'null'], [123, 'a number'], ['', 'empty'], [ACTOR.toUpperCase(), 'uppercase'],
    [ACTOR.slice(1), '31 hex'], [`${ACTOR}0`, '33 hex'], [`${ACTOR.slice(1)}g`, 'non-hex'], [` ${ACTOR.slice(1)}`, 'a space'],
  ]
  const opIds: [unknown, string][] = [['', 'empty'], ['o'.repeat(LIMITS.opId + 1), 'too long'], [5, 'a number'], [{}, 'an object'], [false, 'false']]
  for (const type of ISSUE_TYPES) {
    for (const [actor, what] of actors) {
      const body = { ...VALID[type], actor }
      if (actor === undefined) delete body.actor
      refuses(t, type, body, 'actor', `actor ${what}`)
    }
    for (const [opId, what] of opIds) refuses(t, type, { ...VALID[type], opId }, 'opId', `opId ${what}`)
  }
})

t.test('every command on an issue: bad id reference', async (t) => {
  const ids: [unknown, string][] = [
    [undefined, 'missing'], [null, 'null'], [1234, 'a number'], ['', 'empty'], ['abc', '3 hex'], [`${ID}0`, '33 hex'],
    ['abcg', 'non-hex'], ['ab-cd', 'a dash'], [' abcd', 'leading space'], ['abcd\n', 'trailing newline'], [['abcd'], 'an array'],
  ]
  for (const type of WITH_ID) {
    for (const [id, what] of ids) {
      const body = { ...VALID[type], id }
      if (id === undefined) delete body.id
      refuses(t, type, body, 'id', `id ${what}`)
    }
  }
})

t.test('issues.create: bad title, body, labels', async (t) => {
  const c = (over: Body): Body => ({ ...VALID[M.issueCreate], ...over })
  refuses(t, M.issueCreate, { actor: ACTOR }, 'title', 'title missing')
  refuses(t, M.issueCreate, c({ title: null }), 'title', 'title null')
  refuses(t, M.issueCreate, c({ title: 42 }), 'title', 'title a number')
  refuses(t, M.issueCreate, c({ title: ['t'] }), 'title', 'title an array')
  refuses(t, M.issueCreate, c({ title: '' }), 'title', 'title empty')
  refuses(t, M.issueCreate, c({ title: ' \t\n ' }), 'title', 'title blank')
  refuses(t, M.issueCreate, c({ title: 't'.repeat(LIMITS.title + 1) }), 'title', 'title too long')
  refuses(t, M.issueCreate, c({ title: LONE_HIGH }), 'title', 'title with a lone surrogate')
  refuses(t, M.issueCreate, c({ body: 5 }), 'body', 'body a number')
  refuses(t, M.issueCreate, c({ body: { text: 'x' } }), 'body', 'body an object')
  refuses(t, M.issueCreate, c({ body: 'b'.repeat(LIMITS.body + 1) }), 'body', 'body too long')
  refuses(t, M.issueCreate, c({ body: `ok${LONE_LOW}` }), 'body', 'body with a lone surrogate')
  refuses(t, M.issueCreate, c({ labels: 'bug' }), 'labels', 'labels a string')
  refuses(t, M.issueCreate, c({ labels: { 0: 'bug' } }), 'labels', 'labels an object')
  refuses(t, M.issueCreate, c({ labels: Array(LIMITS.perCall + 1).fill('same') }), 'labels', 'too many labels (counted before dedup)')
  refuses(t, M.issueCreate, c({ labels: [1] }), 'labels[0]', 'label a number')
  refuses(t, M.issueCreate, c({ labels: ['ok', null] }), 'labels[1]', 'label null')
  refuses(t, M.issueCreate, c({ labels: ['ok', ''] }), 'labels[1]', 'label empty')
  refuses(t, M.issueCreate, c({ labels: ['ok', 'ok', ' bug'] }), 'labels[2]', 'label with leading space')
  refuses(t, M.issueCreate, c({ labels: ['bug\u0007'] }), 'labels[0]', 'label with a control character')
  refuses(t, M.issueCreate, c({ labels: [LONE_HIGH] }), 'labels[0]', 'label with a lone surrogate')
  refuses(t, M.issueCreate, c({ labels: ['l'.repeat(LIMITS.name + 1)] }), 'labels[0]', 'label too long')
  t.equal((parseCommand({ type: M.issueCreate, body: c({ body: 'b'.repeat(LIMITS.body) }) }) as { body: string }).body.length, LIMITS.body,
    'a body of exactly LIMITS.body characters is accepted')
})

t.test('issues.update and issues.comment: bad title/body', async (t) => {
  const u = (over: Body): Body => ({ actor: ACTOR, id: ID, ...over })
  refuses(t, M.issueUpdate, u({}), 'title', 'neither title nor body')
  refuses(t, M.issueUpdate, u({ title: null, body: null }), 'title', 'title and body null')
  refuses(t, M.issueUpdate, u({ title: '' }), 'title', 'title empty')
  refuses(t, M.issueUpdate, u({ title: '   ', body: 'b' }), 'title', 'title blank next to a good body')
  refuses(t, M.issueUpdate, u({ title: 9 }), 'title', 'title a number')
  refuses(t, M.issueUpdate, u({ title: 't'.repeat(LIMITS.title + 1) }), 'title', 'title too long')
  refuses(t, M.issueUpdate, u({ title: LONE_LOW }), 'title', 'title lone surrogate')
  refuses(t, M.issueUpdate, u({ title: 'ok', body: false }), 'body', 'body a boolean')
  refuses(t, M.issueUpdate, u({ body: 'b'.repeat(LIMITS.body + 1) }), 'body', 'body too long')
  const c = (over: Body): Body => ({ actor: ACTOR, id: ID, ...over })
  refuses(t, M.issueComment, c({}), 'body', 'comment body missing')
  refuses(t, M.issueComment, c({ body: null }), 'body', 'comment body null')
  refuses(t, M.issueComment, c({ body: '' }), 'body', 'comment body empty')
  refuses(t, M.issueComment, c({ body: '\n\n' }), 'body', 'comment body blank')
  refuses(t, M.issueComment, c({ body: 3 }), 'body', 'comment body a number')
  refuses(t, M.issueComment, c({ body: 'b'.repeat(LIMITS.body + 1) }), 'body', 'comment body too long')
  refuses(t, M.issueComment, c({ body: `x${LONE_HIGH}` }), 'body', 'comment body lone surrogate')
})

t.test('issues.state: bad state', async (t) => {
  for (const state of [undefined, null, '', 'Open', 'CLOSED', 'opened', 'all', 1, true]) {
    const body: Body = { actor: ACTOR, id: ID, state }
    if (state === undefined) delete body.state
    refuses(t, M.issueState, body, 'state', `state ${JSON.stringify(state)}`)
  }
})

t.test('issues.label / issues.assign: bad add/remove', async (t) => {
  for (const type of [M.issueLabel, M.issueAssign]) {
    const b = (over: Body): Body => ({ actor: ACTOR, id: ID, ...over })
    refuses(t, type, b({}), 'add', 'neither add nor remove')
    refuses(t, type, b({ add: [], remove: [] }), 'add', 'both empty')
    refuses(t, type, b({ add: null, remove: null }), 'add', 'both null')
    refuses(t, type, b({ add: 'x' }), 'add', 'add a string')
    refuses(t, type, b({ add: ['x'], remove: 'y' }), 'remove', 'remove a string')
    refuses(t, type, b({ add: Array(LIMITS.perCall + 1).fill('x') }), 'add', 'add too many')
    refuses(t, type, b({ remove: Array.from({ length: LIMITS.perCall + 1 }, (_, i) => `n${i}`) }), 'remove', 'remove too many')
    refuses(t, type, b({ add: ['x', 7] }), 'add[1]', 'add entry a number')
    refuses(t, type, b({ add: ['x'], remove: ['ok', 'y '] }), 'remove[1]', 'remove entry trailing space')
    refuses(t, type, b({ add: ['a\u001bb'] }), 'add[0]', 'add entry with ESC')
    refuses(t, type, b({ add: ['\u2029'] }), 'add[0]', 'add entry paragraph separator')
    refuses(t, type, b({ remove: [LONE_LOW] }), 'remove[0]', 'remove entry lone surrogate')
    refuses(t, type, b({ add: ['n'.repeat(LIMITS.name + 1)] }), 'add[0]', 'add entry too long')
    refuses(t, type, b({ add: ['x', 'y'], remove: ['y'] }), 'remove', 'y both added and removed')
    refuses(t, type, b({ add: ['x', 'x'], remove: ['z', 'x'] }), 'remove', 'overlap after dedup')
  }
})

t.test('issues.link: bad url, note', async (t) => {
  const l = (over: Body): Body => ({ actor: ACTOR, id: ID, ...over })
  const urls: [unknown, string][] = [
    [undefined, 'missing'], [null, 'null'], [42, 'a number'], ['', 'empty'], ['example.com', 'no scheme'], ['/relative/path', 'relative'],
    ['not a url', 'prose'], ['https://a.b/\nx', 'a newline'], ['https://a.b/\u0000', 'NUL'],
    [`https://e.com/${'x'.repeat(LIMITS.url)}`, 'too long'],
  ]
  for (const [url, what] of urls) {
    const body = l({ url })
    if (url === undefined) delete body.url
    refuses(t, M.issueLink, body, 'url', `url ${what}`)
  }
  refuses(t, M.issueLink, l({ url: 'https://a.b', note: 1 }), 'note', 'note a number')
  refuses(t, M.issueLink, l({ url: 'https://a.b', note: 'n'.repeat(LIMITS.note + 1) }), 'note', 'note too long')
  refuses(t, M.issueLink, l({ url: 'https://a.b', note: LONE_HIGH }), 'note', 'note lone surrogate')
})

t.test('issues.attach: bad name, sha256, mime', async (t) => {
  const a = (over: Body): Body => ({ ...VALID[M.issueAttach], ...over })
  const shas: [unknown, string][] = [
    [undefined, 'missing'], [null, 'null'], [1, 'a number'], ['', 'empty'], [SHA.toUpperCase(), 'uppercase'],
    [SHA.slice(1), '63 hex'], [`${SHA}0`, '65 hex'], [`${SHA.slice(1)}z`, 'non-hex'],
  ]
  for (const [sha256, what] of shas) refuses(t, M.issueAttach, a({ sha256 }), 'sha256', `sha256 ${what}`)
  const mimes: [unknown, string][] = [
    [undefined, 'missing'], [null, 'null'], [7, 'a number'], ['', 'empty'], ['text', 'no subtype'], ['text/', 'empty subtype'],
    ['/plain', 'empty type'], ['text/plain; charset=utf-8', 'parameters'], [' text/plain', 'leading space'],
    ['text/pla in', 'inner space'], ['text/plain\n', 'newline'], [`text/${'x'.repeat(LIMITS.mime)}`, 'too long'],
  ]
  for (const [mime, what] of mimes) refuses(t, M.issueAttach, a({ mime }), 'mime', `mime ${what}`)
  const names: [unknown, string][] = [
    [undefined, 'missing'], [null, 'null'], [5, 'a number'], ['', 'empty'], [' a.txt', 'leading space'], ['a.txt ', 'trailing space'],
    ['a\tb', 'a tab'], ['a\rb', 'a CR'], [LONE_HIGH, 'lone surrogate'], ['n'.repeat(LIMITS.attachmentName + 1), 'too long'],
  ]
  for (const [name, what] of names) refuses(t, M.issueAttach, a({ name }), 'name', `name ${what}`)
  t.equal((parseCommand({ type: M.issueAttach, body: a({ name: 'n'.repeat(LIMITS.attachmentName) }) }) as { name: string }).name.length,
    LIMITS.attachmentName, 'a name of exactly LIMITS.attachmentName characters is accepted')
})

t.test('issues.depend: bad target, dependency type, remove', async (t) => {
  const d = (over: Body): Body => ({ ...VALID[M.issueDepend], ...over })
  for (const type of [undefined, null, '', 'block', 'BLOCKS', 'depends-on', 'relatedTo', 1]) {
    const body = d({ type })
    if (type === undefined) delete body.type
    refuses(t, M.issueDepend, body, 'type', `dependency type ${JSON.stringify(type)}`)
  }
  for (const target of [undefined, null, 7, '', 'abc', `${ID}a`, 'wxyz', ['abcd']]) {
    const body = d({ target })
    if (target === undefined) delete body.target
    refuses(t, M.issueDepend, body, 'target', `target ${JSON.stringify(target)}`)
  }
  for (const remove of ['yes', 1, 0, null, 'true']) refuses(t, M.issueDepend, d({ remove }), 'remove', `remove ${JSON.stringify(remove)}`)
})

t.test('leaseToken fences any write; a claim takes its own lease; close may carry a reason and the lease id', async (t) => {
  const got = parseCommand({ type: M.issueComment, body: { actor: ACTOR, id: 'abcd', body: 'x', leaseToken: 7 } })
  t.equal((got as { leaseToken: number }).leaseToken, 7)
  for (const bad of [0, -1, 1.5, '7', true, Number.MAX_SAFE_INTEGER + 1]) {
    const err = (() => { try { parseCommand({ type: M.issueComment, body: { actor: ACTOR, id: 'abcd', body: 'x', leaseToken: bad } }) } catch (e) { return e } })() as CairnError
    t.same([err?.code, err?.details?.field], ['INVALID_ARGUMENT', 'leaseToken'], `leaseToken ${String(bad)}`)
  }
  const claim = { actor: ACTOR, user: 'agent-1', session: 's1', ttlMs: 60_000 }
  t.same(parseCommand({ type: M.issueClaimNext, body: { ...claim, label: 'api', opId: 'c-1' } }),
    { actor: ACTOR, opId: 'c-1', leaseToken: null, type: 'claim-next', user: 'agent-1', session: 's1', ttlMs: 60_000, label: 'api', issue: null })
  const field = (type: string, body: Record<string, unknown>) => {
    const e = (() => { try { parseCommand({ type, body }) } catch (err) { return err } })() as CairnError
    return [e?.code, e?.details?.field]
  }
  t.same(field(M.issueClaimNext, { ...claim, leaseToken: 1 }), ['INVALID_ARGUMENT', 'leaseToken'], 'a claim is not fenced on another lease')
  t.same(field(M.issueClaimNext, { ...claim, user: ' u' }), ['INVALID_ARGUMENT', 'user'])
  t.same(field(M.issueClaimNext, { ...claim, session: '' }), ['INVALID_ARGUMENT', 'session'])
  t.same(field(M.issueClaimNext, { ...claim, ttlMs: 0 }), ['INVALID_ARGUMENT', 'ttlMs'])
  t.same(field(M.issueClaimNext, { ...claim, label: '' }), ['INVALID_ARGUMENT', 'label'])
  t.match(parseCommand({ type: M.issueClaimNext, body: { ...claim, issue: 'ab'.repeat(16) } }), { type: 'claim-next', issue: 'ab'.repeat(16) }, 'a claim of one named issue')
  for (const bad of ['abcd', 'AB'.repeat(16), 5, {}]) t.same(field(M.issueClaimNext, { ...claim, issue: bad }), ['INVALID_ARGUMENT', 'issue'], `issue ${JSON.stringify(bad)}`)
  t.match(parseCommand({ type: M.issueState, body: { actor: ACTOR, id: 'abcd', state: 'closed', reason: 'done', leaseToken: 2, leaseId: 'f'.repeat(32) } }),
    { type: 'state', state: 'closed', reason: 'done', leaseToken: 2, leaseId: 'f'.repeat(32) })
  t.same(field(M.issueState, { actor: ACTOR, id: 'abcd', state: 'closed', leaseId: 'f'.repeat(32) }), ['INVALID_ARGUMENT', 'leaseToken'], 'a lease id alone releases nothing')
  t.same(field(M.issueState, { actor: ACTOR, id: 'abcd', state: 'closed', leaseToken: 2, leaseId: 5 }), ['INVALID_ARGUMENT', 'leaseId'])
  t.same(field(M.issueState, { actor: ACTOR, id: 'abcd', state: 'closed', reason: 5 }), ['INVALID_ARGUMENT', 'reason'])
})
