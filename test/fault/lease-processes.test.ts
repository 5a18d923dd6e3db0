/**
 * One lease table per repository, whoever opens it: several processes,
 * each with its own runtime and its own home, churn leases, claims and
 * fenced writes on the same resources of one repository while one of them
 * is SIGKILLed and restarted every second or two. Every process logs its
 * steps with the machine's wall clock (test/fixtures/locks-modes.ts), and
 * the joined history (test/helpers/lease-history.ts) must show no
 * overlapping grants, tokens strictly increasing per resource and never
 * repeated, and no stale fenced write accepted: each process decides
 * against what the store holds at commit time, not its own copy.
 * Replay with CAIRN_FAULT_SEED=<seed printed in the output>.
 */
import t from 'tap'
import { join } from 'node:path'
import { childTracker, prng, scratchRepo, type Line, type RuntimeChild } from '../fixtures/child-process.ts'
import { judgeLeases } from '../helpers/lease-history.ts'

const PROCESSES = 3
const CLIENTS = 5
const KILLS = 12
// Boots contend with the churn of the processes already running (each write of one refuses the others' blocks in flight).
const BOOT_TIMEOUT_MS = 120_000
const CHURN_MAX_MS = 600_000
const seed = Number(process.env.CAIRN_FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31))
const rand = prng(seed)

t.test(`${PROCESSES} processes with their own homes on one repository, ${KILLS} SIGKILLs`, async (t) => {
  t.comment(`seed ${seed} (CAIRN_FAULT_SEED to replay)`)
  const scratch = scratchRepo('cairn-fault-lease-procs-')
  const kids = childTracker(t, scratch.cleanup)
  const lines: Line[] = []
  let runs = 0
  const spawn = (slot: number): RuntimeChild => kids.spawn('locks-churn', join(scratch.dir, `home-${slot}`), scratch.repo, {
    CAIRN_CLIENTS: String(CLIENTS), CAIRN_CLIENT_PREFIX: `p${slot}-${runs}-c`, CAIRN_SEED: String(seed + 100 * slot + runs++), CAIRN_ISSUES: '20',
    // Every child is killed by this test; under load the run outlasts the fixture's default 60 s of churn.
    CAIRN_WRITE_MAX_MS: String(CHURN_MAX_MS),
  })
  // The first one seeds the board; the others find it seeded (the same opIds) and join.
  const slots = [spawn(0)]
  await (slots[0] as RuntimeChild).line('ready', BOOT_TIMEOUT_MS)
  for (let i = 1; i < PROCESSES; i++) slots.push(spawn(i))
  await Promise.all(slots.map((c) => c.line('ready', BOOT_TIMEOUT_MS)))
  for (let i = 0; i < KILLS; i++) {
    const ms = 1_000 + Math.floor(rand() * 1_500)
    await new Promise((r) => setTimeout(r, ms))
    const slot = Math.floor(rand() * PROCESSES)
    const victim = slots[slot] as RuntimeChild
    const alreadyExited = victim.exit
    const killed = await victim.kill()
    // A process that exited by itself (not our SIGKILL) failed: say how, with its stderr.
    t.equal(killed.signal, 'SIGKILL', `kill ${i}: process ${slot} after ${ms} ms`,
      alreadyExited ? { exited: killed, child: victim.describe() } : {})
    lines.push(...victim.lines)
    slots[slot] = spawn(slot)
  }
  await new Promise((r) => setTimeout(r, 2_000))
  for (const c of slots) {
    await c.kill()
    lines.push(...c.lines)
  }

  const v = judgeLeases(lines)
  const processesWithGrants = new Set(v.grants.map((g) => g.c.split('-')[0])).size
  t.ok(v.grants.length >= 100, `${v.grants.length} grants (${v.claims} by claimNext) from ${runs} processes`)
  t.equal(processesWithGrants, PROCESSES, 'every home took part')
  const odd = lines.filter((l) => l.ev === 'err' && !['LEASE_HELD', 'STOPPED', 'UNAVAILABLE', 'LEASE_LOST'].includes(l.code as string))
  t.same(odd.slice(0, 5), [], 'no unexpected error codes (LEASE_HELD is contention; UNAVAILABLE and LEASE_LOST follow a kill or a store that kept moving)')
  t.same(v.overlaps, [], '0 overlapping grants across processes')
  t.same(v.tokenOrder, [], 'tokens strictly increase per resource across processes')
  t.same(v.repeated, [], 'no (resource, token) pair was granted twice')
  t.equal(v.grantLines, v.pairs, 'every grant line is a distinct (resource, token) pair')
  t.ok(v.fenced.accepted > 0, `${v.fenced.accepted} fenced writes accepted, ${v.fenced.refused} refused`)
  t.same(v.fenced.stale, [], '0 stale fenced writes accepted')
})
