/**
 * The LockKeeper's IPC boundary: every lease request body is validated
 * before it joins a batch; bad input is INVALID_ARGUMENT naming the field.
 */
import t from 'tap'
import { parseOp } from '../../../../actors/lock-keeper/effects.ts'
import { CairnError } from '../../../../protocol/errors.ts'
import { MESSAGE_TYPES as M } from '../../../../protocol/messages.ts'
import type { Envelope } from '../../../../protocol/envelope.ts'

const ACTOR = 'a'.repeat(32)
const req = (type: string, body: unknown): Envelope => ({ v: 1, id: 1, type, from: 'supervisor', to: 'lock-keeper:r', body })
const fieldOf = (type: string, body: unknown): string | undefined => {
  try {
    parseOp(req(type, body))
  } catch (err) {
    const e = err as CairnError
    return e.code === 'INVALID_ARGUMENT' ? (e.details?.field as string) : `code:${e.code}`
  }
  return undefined
}

t.test('valid requests parse to normalised ops', async (t) => {
  t.match(parseOp(req(M.lockAcquire, { resource: 'issue:ABCD', actor: ACTOR, session: 's', ttlMs: 10 })),
    { kind: 'acquire', resource: 'issue:abcd', ttlMs: 10, waitMs: 0 })
  t.match(parseOp(req(M.lockAcquire, { resource: 'path:a', actor: ACTOR, session: 's', agent: 'alice', ttlMs: 10 })),
    { kind: 'acquire', holder: { actor: ACTOR, session: 's', agent: 'alice' } })
  t.match(parseOp(req(M.lockRenew, { resource: 'path:a/b', token: 3, leaseId: 'f'.repeat(32) })), { kind: 'renew', resource: 'path:a/b', token: 3, leaseId: 'f'.repeat(32) })
  t.match(parseOp(req(M.lockRelease, { resource: 'repo:x', token: 1 })), { kind: 'release', token: 1, leaseId: undefined })
  t.match(parseOp(req(M.lockBreak, { resource: 'path:a', actor: ACTOR, agent: 'ops', reason: 'holder crashed' })),
    { kind: 'break', resource: 'path:a', by: { actor: ACTOR, agent: 'ops' }, reason: 'holder crashed' })
  t.match(parseOp(req(M.lockCancel, { waitId: 'w' })), { kind: 'cancel', waitId: 'w' })
  t.match(parseOp(req(M.lockPolicySet, { policy: 'warn' })), { kind: 'policy', policy: 'warn' })
})

t.test('every bad field is named', async (t) => {
  const acquire = { resource: 'issue:abcd', actor: ACTOR, session: 's', ttlMs: 10 }
  const cases: [string, unknown, string][] = [
    [M.lockAcquire, null, 'resource'],
    [M.lockAcquire, [], 'body'],
    [M.lockAcquire, { ...acquire, resource: 'nope' }, 'resource'],
    [M.lockAcquire, { ...acquire, resource: 5 }, 'resource'],
    [M.lockAcquire, { ...acquire, actor: 'ABC' }, 'actor'],
    [M.lockAcquire, { ...acquire, session: '' }, 'session'],
    [M.lockAcquire, { ...acquire, session: 'x'.repeat(129) }, 'session'],
    [M.lockAcquire, { ...acquire, ttlMs: 0 }, 'ttlMs'],
    [M.lockAcquire, { ...acquire, ttlMs: 1.5 }, 'ttlMs'],
    [M.lockAcquire, { ...acquire, ttlMs: 86_400_001 }, 'ttlMs'],
    [M.lockAcquire, { ...acquire, waitMs: -1 }, 'waitMs'],
    [M.lockAcquire, { ...acquire, waitMs: 10 * 60_000 + 1 }, 'waitMs'],
    [M.lockAcquire, { ...acquire, waitId: '' }, 'waitId'],
    [M.lockRenew, { resource: 'path:a', token: 0 }, 'token'],
    [M.lockRenew, { resource: 'path:a', token: 1, ttlMs: -5 }, 'ttlMs'],
    [M.lockRenew, { resource: 'path:../a', token: 1 }, 'resource'],
    [M.lockRelease, { resource: 'path:a', token: '1' }, 'token'],
    [M.lockCancel, { waitId: 7 }, 'waitId'],
    [M.lockPolicySet, { policy: 'strict' }, 'policy'],
    [M.lockAcquire, { ...acquire, agent: '' }, 'agent'],
    [M.lockRenew, { resource: 'path:a', token: 1, leaseId: '' }, 'leaseId'],
    [M.lockRelease, { resource: 'path:a', token: 1, leaseId: 5 }, 'leaseId'],
    [M.lockRelease, { resource: 'path:a', token: 1, leaseId: 'x'.repeat(129) }, 'leaseId'],
    [M.lockBreak, { resource: 'path:a', actor: ACTOR }, 'reason'],
    [M.lockBreak, { resource: 'path:a', actor: ACTOR, reason: '   ' }, 'reason'],
    [M.lockBreak, { resource: 'path:a', actor: ACTOR, reason: 'two\nlines' }, 'reason'],
    [M.lockBreak, { resource: 'path:a', actor: ACTOR, reason: 'x'.repeat(1025) }, 'reason'],
    [M.lockBreak, { resource: 'path:a', actor: 'nope', reason: 'r' }, 'actor'],
    [M.lockBreak, { resource: 'nope', actor: ACTOR, reason: 'r' }, 'resource'],
  ]
  for (const [type, body, field] of cases) t.equal(fieldOf(type, body), field, `${type} ${JSON.stringify(body)?.slice(0, 60)}`)
  t.equal(fieldOf('locks.unknown', {}), 'code:UNKNOWN_MESSAGE')
})
