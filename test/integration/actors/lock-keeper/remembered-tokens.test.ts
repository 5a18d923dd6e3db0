/**
 * A token is never handed out twice from one thread, even when the store
 * reads back older than what this thread committed (LMDB shared by
 * processes that get SIGKILLed has been seen to do so, rarely:
 * scripts/store-kill/run.ts). The ledger decides on a real store; the
 * store going back is made by writing the older token and lease back
 * outside the ledger, as a lost commit would leave them.
 */
import t from 'tap'
import { join } from 'node:path'
import type { RootDatabase } from 'lmdb'
import { openStore } from '../../../../lib/kernel/store/open-store.ts'
import { WriteChain } from '../../../../lib/kernel/store/write-chain.ts'
import { decideAcquire, decideRelease, leaseIdHash } from '../../../../actors/lock-keeper/leases.ts'
import { LeaseLedger, Ticket } from '../../../../actors/lock-keeper/ledger.ts'
import { sandbox } from '../../../helpers/tmp-repos.ts'

const holder = { actor: 'a'.repeat(32), session: 's1', agent: 'agent' }
const ID = 'f'.repeat(32)

/** Grants `resource` through `ledger` as the LockKeeper does: decide, stage, write the block, settle. */
async function grant(env: RootDatabase, ledger: LeaseLedger, resource: string, now: number): Promise<number> {
  const d = decideAcquire(ledger, { resource, holder, ttlMs: 1_000, idHash: leaseIdHash(ID) }, now, 5_000)
  if (!d.granted) throw new Error(`not granted: held by ${d.conflict.holder.actor}`)
  const ticket = new Ticket()
  await WriteChain.of(env).write(ledger.stage(d.changes, ticket))
  ledger.settle(ticket, true)
  return d.lease.token
}

async function release(env: RootDatabase, ledger: LeaseLedger, resource: string, token: number, now: number): Promise<void> {
  const ticket = new Ticket()
  await WriteChain.of(env).write(ledger.stage(decideRelease(ledger, { resource, token, leaseId: ID }, now).changes, ticket))
  ledger.settle(ticket, true)
}

/** A new store in a scratch dir and a ledger on it; both gone after the test. */
async function freshLedger(t: { teardown(fn: () => unknown): void }): Promise<{ env: RootDatabase; ledger: LeaseLedger }> {
  const box = sandbox()
  t.teardown(box.cleanup)
  const env = await openStore(join(box.dir, 'store'), 'repo')
  t.teardown(() => env.close())
  return { env, ledger: new LeaseLedger(env) }
}

t.test('a store that reads back an older token does not make this thread grant a token again', async (t) => {
  const { env, ledger } = await freshLedger(t)
  const r = 'issue:00000001'
  const first = await grant(env, ledger, r, 1_000)
  await release(env, ledger, r, first, 1_100)
  const second = await grant(env, ledger, r, 1_200)
  await release(env, ledger, r, second, 1_300)
  t.same([first, second], [1, 2], 'tokens 1 and 2 granted and committed')

  // The store goes back to before the second grant: token 1 on disk.
  await ledger.dbs.tokens.put(r, first)
  t.equal(ledger.dbs.tokens.get(r), 1, 'the disk says 1')

  const third = await grant(env, ledger, r, 1_400)
  t.equal(third, 3, 'the next grant is 3, not 2 again')
  await release(env, ledger, r, third, 1_500)

  await ledger.dbs.tokens.put(r, first)
  const restarted = new LeaseLedger(env)
  t.equal(await grant(env, restarted, r, 1_600), 4, 'a ledger made again on the same store (a LockKeeper restart) remembers too')

  // Tokens another resource never had are not invented; a store opened elsewhere has its own memory.
  t.equal(await grant(env, ledger, 'path:src', 1_700), 1, 'another resource starts at 1')
})

t.test('tokens of refused blocks are not remembered', async (t) => {
  const { ledger } = await freshLedger(t)
  const r = 'path:docs'
  const d = decideAcquire(ledger, { resource: r, holder, ttlMs: 1_000, idHash: leaseIdHash(ID) }, 1_000, 5_000)
  if (!d.granted) throw new Error('not granted')
  const ticket = new Ticket()
  ledger.stage(d.changes, ticket)
  t.equal(ledger.lastToken(r), 1, 'staged: the ledger counts it while in flight')
  ledger.settle(ticket, false)
  t.equal(ledger.lastToken(r), 0, 'refused: forgotten, the disk says what holds')
})
