/**
 * One of the processes of run.ts: commits to one store through Cairn's own
 * opener (openStore: OPEN_OPTIONS) and write chain (WriteChain: fenced
 * blocks), the way every runtime on a shared repository writes.
 *
 *   node --import=tsx scripts/store-kill/child.ts <storeDir> <padsPerBlock> [cairn|on]
 *
 * Loops forever: reads counter `c`, writes one block holding `c + 1` and
 * `padsPerBlock` 8 KB records (so each commit dirties and syncs many
 * pages), and once the chain says the block is durable reads `c` back and
 * prints `{"ack":n,"pid":p,"seen":fence,"back":c,"staleReads":k}` (`seen`:
 * the fence version the deciding read showed; `k`: the chain's count of
 * reads older than its own commit). A block refused because another process
 * wrote first prints `{"refused":n,...}` and is decided again after the
 * chain re-reads the store. run.ts SIGKILLs it.
 */
import { open, type Database } from 'lmdb'
import { OPEN_OPTIONS, openStore } from '../../lib/kernel/store/open-store.ts'
import { WriteChain } from '../../lib/kernel/store/write-chain.ts'
import type { RecordedWrite } from '../../lib/kernel/store/recorded-writes.ts'

const [dir, padsArg, sync = 'cairn'] = process.argv.slice(2) as [string, string, string?]
const pads = Number(padsArg)
// `on`: as Cairn opened stores before OPEN_OPTIONS turned overlapping sync off, for comparison.
const env = sync === 'on' ? open({ path: dir, ...OPEN_OPTIONS, overlappingSync: true }) : await openStore(dir, 'repo')
const counter = env.openDB({ name: 'counter' }) as unknown as Database<number, string>
const pad = env.openDB({ name: 'pad' }) as unknown as Database<Buffer, string>
// The chain's fence, read back to tell a stale read (an older fence of ours) from a lost commit.
const fence = env.openDB({ name: 'write-fence', useVersions: true }) as unknown as Database<number, string>
const chain = WriteChain.of(env)
let resynced: () => void = () => {}
chain.listen({ reload: () => {}, rerun: () => resynced() })
const big = Buffer.alloc(8_000, 7)
process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid })}\n`)

for (let n = 0; ; n++) {
  // The read transaction of this turn may predate this process's last commit.
  env.resetReadTxn()
  const next = (counter.get('c') ?? 0) + 1
  const seen = fence.getEntry('event-store')?.version ?? null
  const writes: RecordedWrite[] = [{ db: counter, key: 'c', value: next }]
  for (let i = 0; i < pads; i++) writes.push({ db: pad, key: `k${(n * pads + i) % 2_000}`, value: big })
  const again = new Promise<void>((resolve) => { resynced = resolve })
  try {
    await chain.write(writes)
    env.resetReadTxn()
    // Read back at once: a value under `next` is this process's own commit missing from its next read.
    const back = counter.get('c')
    process.stdout.write(`${JSON.stringify({ ack: next, pid: process.pid, at: Date.now(), seen, back, staleReads: chain.staleReads })}\n`)
  } catch (err) {
    if ((err as { details?: { reason?: string } }).details?.reason !== 'store-changed') throw err
    process.stdout.write(`${JSON.stringify({ refused: next, pid: process.pid, at: Date.now(), seen })}\n`)
    await again
  }
}
