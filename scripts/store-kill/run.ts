/**
 * Do acknowledged commits survive SIGKILLs of the other processes sharing
 * a store? Several processes (child.ts) commit fenced blocks to one store
 * through Cairn's opener and write chain, each block raising a counter by
 * one and syncing a few MB; one of them is SIGKILLed and restarted every
 * 50-300 ms. Every value must be acknowledged at most once: a value
 * acknowledged twice means a durable commit was overwritten (or reported
 * applied when it was not) and the counter went back under it.
 *
 *   npx tsx scripts/store-kill/run.ts [seconds=60] [processes=3] [pads=300] [cairn|on]
 *
 * `on` opens the stores with lmdb-js's overlapping sync, as Cairn did
 * before OPEN_OPTIONS turned it off. Prints one JSON line (values
 * acknowledged twice with the lines their process printed between,
 * acknowledgements read back lower at once, the chains' count of reads
 * older than their own commits, any writer's error) and exits 1 when a
 * value was acknowledged twice or read back lower, or a writer failed. Not part of the suite: it writes GBs, and it reports
 * misbehaviour of the foundation, which a test here could not fix.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { openStore } from '../../lib/kernel/store/open-store.ts'
import { RuntimeChild } from '../../test/fixtures/child-process.ts'
import { mulberry32 } from '../../test/helpers/prng.ts'

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url))
const args = process.argv.slice(2)
const [seconds = 60, processes = 3, pads = 300] = args.slice(0, 3).map(Number)
if (![seconds, processes, pads].every((n) => Number.isSafeInteger(n) && n > 0) || !['on', 'cairn', undefined].includes(args[3]) || args.length > 4) {
  console.error('usage: npx tsx scripts/store-kill/run.ts [seconds=60] [processes=3] [pads=300] [cairn|on]  (positive integers)')
  // eslint-disable-next-line n/no-process-exit -- nothing started yet
  process.exit(2)
}
const sync = args[3] === 'on' ? 'on' : 'cairn'
const seed = Number(process.env.CAIRN_FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31))
const rand = mulberry32(seed)

const dir = mkdtempSync(join(tmpdir(), 'cairn-store-kill-'))
const store = join(dir, 'store')
const children: RuntimeChild[] = []
try {
  await (await openStore(store, 'repo')).close()
  const spawn = (): RuntimeChild => {
    const c = new RuntimeChild('script', '', '', {}, [CHILD, store, String(pads), sync])
    children.push(c)
    return c
  }
  const slots = Array.from({ length: processes }, spawn)
  await Promise.all(slots.map((c) => c.line('ready', 60_000)))
  const kills: { pid: number; at: number }[] = []
  const end = Date.now() + seconds * 1000
  while (Date.now() < end && kills.length < 100_000) {
    await new Promise((r) => setTimeout(r, 50 + Math.floor(rand() * 250)))
    const i = Math.floor(rand() * processes)
    const victim = slots[i] as RuntimeChild
    kills.push({ pid: victim.pid, at: Date.now() })
    await victim.kill()
    slots[i] = spawn()
  }
  await Promise.all(slots.map((c) => c.kill()))

  const acked = new Map<number, Record<string, unknown>>()
  const twice: unknown[] = []
  for (const c of children) {
    for (const l of c.lines) {
      if (typeof l.ack !== 'number') continue
      const before = acked.get(l.ack)
      if (before) {
        // This child's lines from the first acknowledgement on: its refusals and the fence each read saw.
        const from = c.lines.indexOf(before)
        twice.push({ first: before, again: l, between: from >= 0 ? c.lines.slice(from, c.lines.indexOf(l) + 1) : undefined,
          killed: kills.filter((k) => k.pid === before.pid || k.pid === l.pid) })
      }
      else acked.set(l.ack, l)
    }
  }
  // An acknowledged value read back lower at once: this process's own commit missing from its next read.
  const readBackOlder = children.flatMap((c) => c.lines.filter((l) => typeof l.ack === 'number' && typeof l.back === 'number' && l.back < l.ack))
  const staleReads = children.reduce((n, c) => n + Math.max(0, ...c.lines.map((l) => (typeof l.staleReads === 'number' ? l.staleReads : 0))), 0)
  const errors = children.filter((c) => c.stderr.trim() !== '').map((c) => c.stderr.slice(0, 300))
  const env = await openStore(store, 'repo')
  const final = env.openDB({ name: 'counter' }).get('c') as number
  await env.close()
  console.log(JSON.stringify({ seed, seconds, processes, pads, sync, kills: kills.length, acknowledged: acked.size, final, twice: twice.slice(0, 5), readBackOlder: readBackOlder.slice(0, 5), staleReads, errors: errors.slice(0, 3) }))
  process.exitCode = twice.length > 0 || readBackOlder.length > 0 || errors.length > 0 ? 1 : 0
} finally {
  await Promise.all(children.map((c) => c.kill().catch(() => undefined)))
  rmSync(dir, { recursive: true, force: true })
}
