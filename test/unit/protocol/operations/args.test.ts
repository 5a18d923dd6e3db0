/**
 * The operations' argument schemas: one per method, strict, each exported
 * as JSON Schema; bad arguments refused with INVALID_ARGUMENT naming the
 * field; and for issue writes, the schema agrees with the RepoWorker's own
 * parser on every value of a generated set (what one accepts the other
 * accepts, and both name the same field), so checking at the surface
 * changes no answer.
 */
import t from 'tap'
import { z } from 'zod'
import { CairnError } from '../../../../protocol/errors.ts'
import { MESSAGE_TYPES as M } from '../../../../protocol/messages.ts'
import { OPERATION_SPECS, operationSpec, parseArgs, type Method } from '../../../../protocol/operations/index.ts'
import { parseCommand } from '../../../../actors/repo-worker/commands/parse.ts'
import { operation } from '../../../../lib/daemon/operations/index.ts'
import { assertCoded } from '../../../helpers/coded-error.ts'
import { mulberry32 } from '../../../helpers/prng.ts'

const DAEMON_OWN = new Set(['ping', 'daemon.status', 'daemon.stop'])

function thrown(fn: () => unknown): unknown {
  try {
    fn()
    return undefined
  } catch (err) {
    return err
  }
}

t.test('every method has a strict schema, a JSON Schema, a summary and a reply; the daemon serves each', async (t) => {
  const methods = Object.keys(OPERATION_SPECS) as Method[]
  t.ok(methods.length >= 30, `${methods.length} methods`)
  for (const m of methods) {
    const spec = OPERATION_SPECS[m]
    t.ok(spec.summary.length > 5 && spec.reply.length > 3, `${m}: summary and reply`)
    const json = z.toJSONSchema(spec.args, { io: 'input' }) as { type: string; additionalProperties: boolean; properties?: Record<string, unknown> }
    t.same([json.type, json.additionalProperties], ['object', false], `${m}: an object refusing unknown fields`)
    if (!DAEMON_OWN.has(m)) t.equal(operation(m)?.spec, spec, `${m}: the daemon serves it with this spec`)
  }
  t.equal(operationSpec('__proto__'), undefined, 'inherited names are not methods')
  t.equal(operationSpec('constructor'), undefined)
})

t.test('bad arguments: INVALID_ARGUMENT naming the field, in the library\'s words', async (t) => {
  const cases: [string, unknown, string, RegExp][] = [
    ['issues.create', {}, 'title', /^title is required$/],
    ['issues.create', { title: ' ' }, 'title', /must not be blank/],
    ['issues.create', { title: 7 }, 'title', /must be a string/],
    ['issues.create', { title: 'x'.repeat(1025) }, 'title', /at most 1024/],
    ['issues.create', { title: 'x', labels: ['ok', ' pad'] }, 'labels[1]', /surrounding whitespace/],
    ['issues.create', { title: 'x', labels: 'one' }, 'labels', /array of strings/],
    ['issues.create', { title: 'x', labels: Array.from({ length: 65 }, (_, i) => `l${i}`) }, 'labels', /at most 64/],
    ['issues.create', { title: 'x', tittle: 'y' }, 'tittle', /not an argument of issues.create/],
    ['issues.create', { title: 'x', opId: '' }, 'opId', /1\.\.128/],
    ['issues.comment', { id: 'abcd' }, 'body', /required/],
    ['issues.comment', { id: 'abcd', body: 'x', lease: 0 }, 'lease', /integer ≥ 1/],
    ['issues.show', { id: 'xyz!' }, 'id', /hex prefix/],
    ['issues.show', { id: 42 }, 'id', /hex prefix/],
    ['issues.show', [1, 2], 'args', /must be a map/],
    ['issues.show', 'a string', 'args', /must be a map/],
    ['issues.list', { state: 'later' }, 'state', /one of open, closed, all/],
    ['issues.depend', { id: 'abcd', target: 'ef01', type: 'likes' }, 'type', /one of blocks, depends_on, related_to/],
    ['issues.depend', { id: 'abcd', target: 'ef01', type: 'blocks', remove: 'yes' }, 'remove', /must be a boolean/],
    ['issues.attach', { id: 'abcd', name: 'f', sha256: 'AB', mime: 'text/plain' }, 'sha256', /64 lowercase hex/],
    ['issues.claim', { ttlMs: 0 }, 'ttlMs', /from 1 to 86400000/],
    ['issues.claim', { ttlMs: 1.5 }, 'ttlMs', /integer/],
    ['locks.acquire', { resource: 'path:x' }, 'ttlMs', /required/],
    ['locks.acquire', { resource: 'file:x', ttlMs: 10 }, 'resource', /repo:, path: or issue:/],
    ['locks.renew', { resource: 'path:x', token: -1 }, 'token', /integer ≥ 1/],
    ['locks.renew', { resource: 'path:x', token: 1, leaseId: '' }, 'leaseId', /lease id of 1\.\.128/],
    ['locks.release', { resource: 'path:x', token: 1, leaseId: 'x'.repeat(129) }, 'leaseId', /lease id of 1\.\.128/],
    ['locks.break', { resource: 'path:x' }, 'reason', /required/],
    ['locks.break', { resource: 'path:x', reason: 'went\nhome' }, 'reason', /one line/],
    ['locks.acquire', { resource: 'path:x', ttlMs: 10, pid: 0 }, 'pid', /integer ≥ 1/],
    ['issues.claim', { ttlMs: 10, pid: 'me' }, 'pid', /integer/],
    ['issues.claim', { ttlMs: 10, opId: '' }, 'opId', /1\.\.\d+ characters/],
    ['issues.ready', { includeClaimed: 'yes' }, 'includeClaimed', /boolean/],
    ['issues.close', { id: 'abcd', reason: 5 }, 'reason', /must be a string/],
    ['agent.heartbeat', { skip: 'file:x' }, 'skip', /repo:, path: or issue:/],
    ['events.read', { limit: 1001 }, 'limit', /from 1 to 1000/],
    ['sync', { pull: 'no' }, 'pull', /boolean/],
    ['repo.doctor', { fix: 1 }, 'fix', /boolean/],
  ]
  for (const [method, args, field, message] of cases) {
    const err = assertCoded(t, thrown(() => parseArgs(method, args)), args, 'INVALID_ARGUMENT', field, `${method} ${JSON.stringify(args).slice(0, 50)} → ${field}`)
    t.match(err?.message, message)
  }
  t.match(thrown(() => parseArgs('no.such.method', {})), { code: 'UNKNOWN_MESSAGE' })
})

t.test('null is absent; absent args are an empty map; valid arguments come back as given', async (t) => {
  t.same(parseArgs('issues.create', { title: 't', body: null, labels: null, opId: null }), { title: 't' })
  t.same(parseArgs('issues.list', undefined), {})
  t.same(parseArgs('issues.list', null), {})
  const args = { id: 'abcd', target: 'ef01', type: 'depends_on' as const, remove: true, opId: 'o-1', lease: 3 }
  t.same(parseArgs('issues.depend', args), args)
  assertCoded(t, thrown(() => parseArgs('issues.show', { id: null })), null, 'INVALID_ARGUMENT', 'id', 'a required field sent as null is missing')
})

const ACTOR = 'a'.repeat(32)

/** What the RepoWorker says of the same arguments: null (accepted) or the refused field. */
function worker(type: string, args: Record<string, unknown>): string | null {
  const { lease, ...rest } = args
  try {
    parseCommand({ type, body: { ...rest, actor: ACTOR, leaseToken: lease } })
    return null
  } catch (err) {
    if (!(err instanceof CairnError) || err.code !== 'INVALID_ARGUMENT') throw err
    return err.details?.field as string
  }
}

function schema(method: string, args: Record<string, unknown>): string | null {
  try {
    parseArgs(method, args)
    return null
  } catch (err) {
    return (err as CairnError).details?.field as string
  }
}

t.test('the schemas and the RepoWorker agree on generated issue writes', async (t) => {
  const r = mulberry32(0x5c4e)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!
  const texts = ['ok', '', ' ', '\t\n', 'x'.repeat(1024), 'x'.repeat(1025), 'lone \ud800', 'é ✓', 7, true, ['x'], undefined]
  const labels = [undefined, [], ['a'], ['a', 'b'], [' a'], ['a\u0007'], [''], ['x'.repeat(129)], 'a', [1], Array.from({ length: 65 }, (_, i) => `l${i}`)]
  const ids = ['abcd', 'ABCD', 'abc', 'a'.repeat(32), 'a'.repeat(33), 'xyz1', 42, undefined]
  const opIds = [undefined, 'o', '', 'x'.repeat(128), 'x'.repeat(129), 5]
  const leases = [undefined, 1, 0, -3, 2.5, '1']
  const drop = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined))
  let agreed = 0
  for (let i = 0; i < 3000; i++) {
    const write = { opId: pick(opIds), lease: pick(leases) }
    const [method, type, args] = pick([
      ['issues.create', M.issueCreate, { title: pick(texts), body: pick(texts), labels: pick(labels), ...write }],
      ['issues.comment', M.issueComment, { id: pick(ids), body: pick(texts), ...write }],
      ['issues.label', M.issueLabel, { id: pick(ids), add: pick(labels.slice(2)), ...write }],
      ['issues.close', M.issueState, { id: pick(ids), ...write }],
    ] as const)
    const a = drop(args)
    const body = method === 'issues.close' ? { ...a, state: 'closed' } : a
    const w = worker(type, body)
    const s = schema(method, a)
    // The schema may name another bad field first; what matters is that both refuse or both accept.
    if ((w === null) !== (s === null)) {
      t.fail(`${method} ${JSON.stringify(a).slice(0, 120)}: worker ${w}, schema ${s}`)
      return
    }
    if (w !== null && s !== null && worker(type, pickField(body, s)) === null && method !== 'issues.close') {
      t.fail(`${method}: the schema refused ${s}, which the worker accepts alone`)
      return
    }
    agreed++
  }
  t.equal(agreed, 3000, 'accept and refuse alike on 3000 generated calls')
})

/** `args` with every field but the required ones and `field` set to a good value. */
function pickField(args: Record<string, unknown>, field: string): Record<string, unknown> {
  const top = field.replace(/\[.*$/, '')
  const good: Record<string, unknown> = { title: 'ok', body: 'ok', id: 'abcd', add: ['a'] }
  const out: Record<string, unknown> = {}
  for (const k of Object.keys(args)) if (k === 'state') out[k] = args[k]
  for (const [k, v] of Object.entries(good)) if (k in args || k === 'id') out[k] = v
  out[top] = args[top]
  return out
}
