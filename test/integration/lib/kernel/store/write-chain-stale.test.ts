/**
 * The write chain never builds on a read older than its own thread's last
 * commit (lib/kernel/store/write-chain.ts). lmdb-js's prebuilt LMDB reads
 * back older than a commit the reading process had just made when another
 * process opens the store at the wrong moment (LMDB ITS#9496;
 * test/fault/store-concurrent-open.test.ts), while the write transaction,
 * which checks the fence, saw the newest state and let a block decided on
 * the old one through. Here the store is set back for real, outside the
 * chain, to a fence version the chain's own later block replaced, as such
 * a read shows it: the chain refuses to write on it, and its re-read waits
 * (bounded) for the store to read back at least its last commit before the
 * writers run again.
 */
import t from 'tap'
import { join } from 'node:path'
import type { Database, RootDatabase } from 'lmdb'
import { openStore } from '../../../../../lib/kernel/store/open-store.ts'
import { WriteChain } from '../../../../../lib/kernel/store/write-chain.ts'
import { sandbox } from '../../../../helpers/tmp-repos.ts'

type Test = Parameters<Parameters<typeof t.test>[0]>[0]

interface Fixture {
  env: RootDatabase
  chain: WriteChain
  counter: Database<number, string>
  /** The chain's fence record, read and set outside the chain. */
  fence: Database<number, string>
  /** The fence version on disk now (fresh read). */
  fenceNow(): number | undefined
  /** Each rerun the chain asked for: the fence version and counter it saw then. */
  reruns: { fence: number | undefined; c: number | undefined; at: number }[]
}

async function fixture(t: Test): Promise<Fixture> {
  const box = sandbox()
  t.teardown(box.cleanup)
  const env = await openStore(join(box.dir, 'store'), 'repo')
  t.teardown(() => env.close())
  const counter = env.openDB({ name: 'counter' }) as unknown as Database<number, string>
  const fence = env.openDB({ name: 'write-fence', useVersions: true }) as unknown as Database<number, string>
  const chain = WriteChain.of(env)
  const fenceNow = (): number | undefined => { env.resetReadTxn(); return fence.getEntry('event-store')?.version }
  const reruns: Fixture['reruns'] = []
  chain.listen({ reload: () => {}, rerun: () => { reruns.push({ fence: fenceNow(), c: counter.get('c'), at: Date.now() }) } })
  return { env, chain, counter, fence, fenceNow, reruns }
}

/** Sets fence and counter outside the chain, in one transaction, as a store read back at that state shows them. */
function setStore(f: Fixture, version: number, c: number): void {
  f.env.transactionSync(() => {
    void f.fence.put('event-store', version, version)
    void f.counter.put('c', c)
  })
}

/** Writes counter = value through the chain, as one block. */
function writeCounter(f: Fixture, value: number): Promise<void> {
  return f.chain.write([{ db: f.counter, key: 'c', value }])
}

/** Two blocks through the chain (counter 1, then 2), then the store set back to the first: returns that first fence version. */
async function setBackOneBlock(f: Fixture): Promise<number> {
  await writeCounter(f, 1)
  const older = f.fenceNow() as number
  await writeCounter(f, 2)
  setStore(f, older, 1)
  f.env.resetReadTxn()
  return older
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 2))
  return cond()
}

t.test('a store reading back older than this thread\'s commit is waited out: no block is written on it', async (t) => {
  const f = await fixture(t)
  await writeCounter(f, 1)
  const older = f.fenceNow() as number
  await writeCounter(f, 2)
  const mine = f.fenceNow() as number
  t.not(older, mine, 'each block moved the fence')

  // The store reads back as before the chain's last block: counter 1 under its older fence.
  setStore(f, older, 1)
  f.env.resetReadTxn()
  const decidedOn = f.counter.get('c') as number
  t.equal(decidedOn, 1, 'a read now shows the older state')
  const refused = await writeCounter(f, decidedOn + 1).then(() => null, (err: { code?: string; details?: { reason?: string } }) => err)
  t.equal(refused?.details?.reason, 'store-changed', 'the block decided on it is refused')
  t.equal(f.fenceNow(), older, 'and was not written')
  t.ok(f.chain.refusing, 'the chain refuses until it re-read the store')

  // The store catches up with the chain's commit a little later.
  await new Promise((r) => setTimeout(r, 25))
  t.same(f.reruns, [], 'no rerun while the store reads back older than the chain\'s own commit')
  const restoredAt = Date.now()
  setStore(f, mine, 2)
  t.ok(await until(() => f.reruns.length > 0, 2_000), 'the writers run again once it caught up')
  const [rerun] = f.reruns
  t.equal(rerun?.fence, mine, 'their rerun reads the chain\'s own last commit')
  t.equal(rerun?.c, 2, 'and the value it wrote')
  t.ok((rerun?.at ?? 0) >= restoredAt, 'not before the store caught up')
  t.ok(f.chain.staleReads >= 2, `the chain counted the old reads (${f.chain.staleReads})`)

  await writeCounter(f, 3)
  t.equal(f.counter.get('c'), 3, 'the next block applies on the caught-up store')
})

t.test('a commit gone from the store for good: after its bounded wait the chain takes the disk as it is', async (t) => {
  const f = await fixture(t)
  const older = await setBackOneBlock(f)

  const started = Date.now()
  await writeCounter(f, 2).catch(() => undefined)
  t.ok(await until(() => f.reruns.length > 0, 5_000), 'the writers run again: the chain does not wait forever')
  t.ok(Date.now() - started >= 200, 'after waiting for the store to catch up')
  t.equal(f.reruns[0]?.fence, older, 'on the store as it is')
  t.notOk(f.chain.refusing, 'the chain writes again')
  await writeCounter(f, 2)
  t.equal(f.counter.get('c'), 2, 'and its next block applies')
})

t.test('pipelined blocks of one thread never look stale to it', async (t) => {
  const f = await fixture(t)
  const blocks: Promise<void>[] = []
  // Many blocks in flight, each decided while earlier ones commit, across event-loop turns.
  for (let i = 1; i <= 400; i++) {
    blocks.push(writeCounter(f, i))
    if (i % 20 === 0) await new Promise((r) => setImmediate(r))
  }
  const results = await Promise.allSettled(blocks)
  t.equal(results.filter((r) => r.status === 'rejected').length, 0, 'every block applied')
  t.equal(f.chain.staleReads, 0, 'no read counted as older than the chain\'s commits')
  t.equal(f.counter.get('c'), 400, 'the last block holds')
  t.same(f.reruns, [], 'nothing was run again')
})

t.test('a store closed while the chain waits for it to catch up ends the wait quietly', async (t) => {
  const f = await fixture(t)
  await setBackOneBlock(f)
  await writeCounter(f, 2).catch(() => undefined)
  t.ok(f.chain.refusing, 'the chain is waiting for the store')
  // The repository stops during the wait: its re-read must not throw in a timer (that ends the thread).
  await f.env.close()
  await new Promise((r) => setTimeout(r, 400))
  t.same(f.reruns, [], 'nothing ran again on a closed store')
})
