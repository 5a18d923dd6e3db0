/**
 * The lease handle's lifecycle, stepped purely with transition(): when it
 * heartbeats, what each kind of renewal failure means, how it ends, and
 * which timers each step arms or drops. Nothing runs: no clock, no calls.
 */
import t from 'tap'
import { initialTransition, transition } from 'xstate'
import { leaseHandleMachine, type HandleInput } from '../../../../../lib/api/lease-handle/machine.ts'
import { CairnError } from '../../../../../protocol/errors.ts'
import type { LeaseInfo } from '../../../../../protocol/messages.ts'
import { invokeId, summarize } from '../../../../helpers/steps.ts'

const m = leaseHandleMachine
const LEASE: LeaseInfo = {
  resource: 'path:src', holder: { actor: 'a'.repeat(32), session: 's' }, token: 7, ttlMs: 30_000,
  grantedAt: 1_000, expiresAt: 31_000, heartbeatAt: 1_000, graceMs: 5_000, id: 'f'.repeat(32),
}
type Snap = ReturnType<typeof initialTransition<typeof m>>[0]

const start = (input: Partial<HandleInput> = {}) => initialTransition(m, { lease: LEASE, ttlMs: 30_000, autoRenew: true, remote: false, ...input })
const types = (actions: unknown[]) => summarize(actions as never).map((a) => a.type)
const failed = (state: string, code: string, at: number) =>
  ({ type: `xstate.error.actor.${invokeId(m, state)}`, error: { error: new CairnError(code as never, code), at } }) as never
const done = (state: string, output: unknown) => ({ type: `xstate.done.actor.${invokeId(m, state)}`, output }) as never

t.test('a granted handle holds and arms its heartbeat (and, remote, its expiry watch)', async (t) => {
  const [s, actions] = start()
  t.equal(s.value, 'holding')
  t.strictSame(summarize(actions), [{ type: 'armBeat', params: { expiresAt: 31_000, ttlMs: 30_000 } }])
  t.strictSame(types(start({ autoRenew: false })[1]), [], 'autoRenew off: no heartbeat')
  t.strictSame(summarize(start({ autoRenew: false, remote: true })[1]), [{ type: 'armExpiry', params: { expiresAt: 31_000 } }],
    'a remote lease watches its own expiry even without heartbeats')
})

t.test('a heartbeat renews; the renewed lease re-arms the next one from its new expiry', async (t) => {
  const [held] = start()
  const [renewing, a1] = transition(m, held, { type: 'BEAT' })
  t.equal(renewing.value, 'renewing')
  t.ok(types(a1).includes('disarmBeat'), 'leaving holding drops the beat timer')
  t.ok(types(a1).includes('xstate.spawnChild'), 'the renewal is invoked')
  t.strictSame(renewing.context.renewal, { ttlMs: 30_000, manual: false })
  const [back, a2] = transition(m, renewing, done('renewing', { ...LEASE, expiresAt: 45_000 }))
  t.equal(back.value, 'holding')
  t.equal(back.context.lease.expiresAt, 45_000)
  t.strictSame(summarize(a2).filter((a) => a.type === 'armBeat'), [{ type: 'armBeat', params: { expiresAt: 45_000, ttlMs: 30_000 } }])
})

t.test('renewal failures: lost ends the handle, transient ones are retried while the lease lasts', async (t) => {
  const [renewing] = transition(m, start()[0], { type: 'BEAT' })
  for (const code of ['LEASE_LOST', 'LEASE_NOT_HELD']) {
    const [s, actions] = transition(m, renewing, failed('renewing', code, 2_000))
    t.equal(s.value, 'lost', `${code} ends it`)
    t.equal(s.status, 'done')
    t.equal(s.context.error?.code, code)
    t.strictSame(types(actions).filter((x) => x === 'abort' || x === 'disarm'), ['disarm', 'abort'], 'timers dropped and the signal aborted')
  }
  const [retry] = transition(m, renewing, failed('renewing', 'UNAVAILABLE', 30_999))
  t.equal(retry.value, 'holding', 'UNAVAILABLE before the expiry: beat again')
  t.equal(transition(m, renewing, failed('renewing', 'UNAVAILABLE', 31_000))[0].value, 'lost', 'at the expiry it counts as lost')
  t.equal(transition(m, renewing, failed('renewing', 'UNREACHABLE', 2_000))[0].value, 'lost', 'UNREACHABLE is transient only for remote leases')
  const [remoteRenewing] = transition(m, start({ remote: true })[0], { type: 'BEAT' })
  t.equal(transition(m, remoteRenewing, failed('renewing', 'UNREACHABLE', 2_000))[0].value, 'holding', 'a remote renewal retries UNREACHABLE')
  t.equal(transition(m, renewing, failed('renewing', 'INTERNAL', 2_000))[0].value, 'lost', 'anything else is lost')
})

t.test('a manual renewal that fails keeps the lease and records why (the caller sees it)', async (t) => {
  const [renewing] = transition(m, start()[0], { type: 'RENEW', ttlMs: 60_000 })
  t.strictSame(renewing.context.renewal, { ttlMs: 60_000, manual: true })
  const [s] = transition(m, renewing, failed('renewing', 'TIMEOUT', 40_000))
  t.equal(s.value, 'holding', 'even past the expiry: the caller decides')
  t.equal(s.context.error?.code, 'TIMEOUT')
  const [lost] = transition(m, renewing, failed('renewing', 'LEASE_LOST', 2_000))
  t.equal(lost.value, 'lost', 'but a lost lease ends it all the same')
})

t.test('release: released when acknowledged, back to holding when the call failed', async (t) => {
  const [releasing, a1] = transition(m, start()[0], { type: 'RELEASE' })
  t.equal(releasing.value, 'releasing')
  t.ok(types(a1).includes('disarmBeat'), 'no heartbeat while releasing')
  const [released, a2] = transition(m, releasing, done('releasing', undefined))
  t.equal(released.value, 'released')
  t.equal(released.status, 'done')
  t.notOk(types(a2).includes('abort'), 'a release is no loss: the signal stays')
  const [again] = transition(m, releasing, failed('releasing', 'UNAVAILABLE', 2_000))
  t.equal(again.value, 'holding', 'a failed release keeps the lease (and beats again)')
  t.equal(transition(m, releasing, failed('releasing', 'LEASE_NOT_HELD', 2_000))[0].value, 'lost')
  const [fromRenewing] = transition(m, transition(m, start()[0], { type: 'BEAT' })[0], { type: 'RELEASE' })
  t.equal(fromRenewing.value, 'releasing', 'a release does not wait for a heartbeat in flight')
})

t.test('expiry, runtime stop, forget and dispose end the handle from any live state', async (t) => {
  const [held] = start({ remote: true })
  const [renewing] = transition(m, held, { type: 'BEAT' })
  for (const from of [held, renewing] as Snap[]) {
    const expired = transition(m, from, { type: 'EXPIRED', error: new CairnError('LEASE_LOST', 'expired') })
    t.equal(expired[0].value, 'lost', `EXPIRED from ${String(from.value)}`)
    t.ok(types(expired[1]).includes('abort'))
    t.equal(transition(m, from, { type: 'STOPPED', error: new CairnError('STOPPED', 'stop') })[0].context.error?.code, 'STOPPED')
    const [forgotten, fa] = transition(m, from, { type: 'FORGET' })
    t.equal(forgotten.value, 'released', 'a close that released the lease ends the handle as released')
    t.notOk(types(fa).includes('abort'))
    const [disposed, da] = transition(m, from, { type: 'DISPOSE' })
    t.equal(disposed.value, 'disposed')
    t.ok(types(da).includes('disarm'), 'timers dropped, nothing aborted')
    t.notOk(types(da).includes('abort'))
  }
  const [lost] = transition(m, held, { type: 'EXPIRED', error: new CairnError('LEASE_LOST', 'x') })
  t.equal(transition(m, lost, { type: 'BEAT' })[0].value, 'lost', 'a finished handle ignores everything')
})
