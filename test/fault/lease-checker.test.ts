/**
 * The lease checker: 20 clients churn acquire / renew / release / claimNext
 * on conflicting resources, with writes fenced by their leases, in a real
 * runtime process that is SIGKILLed and restarted 10 times. Every step is
 * logged with the server's times; test/helpers/lease-history.ts judges
 * them: no two grants on conflicting resources overlap, tokens strictly
 * increase per resource and never repeat, no issue is won by two claimNext
 * callers while the first claim holds, and no fenced write is accepted
 * after a later conflicting grant was answered.
 * Replay with CAIRN_FAULT_SEED=<seed printed in the output>.
 */
import t from 'tap'
import { childTracker, prng, scratchRepo, type Line } from '../fixtures/child-process.ts'
import { judgeLeases } from '../helpers/lease-history.ts'

const KILLS = 10
const BOOT_TIMEOUT_MS = 60_000
const seed = Number(process.env.CAIRN_FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31))
const rand = prng(seed)

t.test(`lease checker: 20 clients, ${KILLS} SIGKILLs`, async (t) => {
  t.comment(`seed ${seed} (CAIRN_FAULT_SEED to replay)`)
  const scratch = scratchRepo('cairn-fault-leases-')
  const kids = childTracker(t, scratch.cleanup)
  const lines: Line[] = []
  for (let i = 0; i < KILLS; i++) {
    const c = kids.spawn('locks-churn', scratch.home, scratch.repo, { CAIRN_CLIENTS: '20', CAIRN_SEED: String(seed + i) })
    await c.line('ready', BOOT_TIMEOUT_MS)
    const ms = 300 + Math.floor(rand() * 900)
    await new Promise((r) => setTimeout(r, ms))
    t.equal((await c.kill()).signal, 'SIGKILL', `run ${i} killed after ${ms} ms`)
    lines.push(...c.lines)
  }

  const v = judgeLeases(lines)
  const errors = lines.filter((l) => l.ev === 'err' && l.code !== 'LEASE_HELD' && l.code !== 'STOPPED')
  t.ok(v.grants.length >= 100, `${v.grants.length} grants (${v.claims} by claimNext) logged across ${KILLS} processes`)
  t.same(errors.filter((l) => !['UNAVAILABLE', 'LEASE_LOST'].includes(l.code as string)).slice(0, 5), [],
    'no unexpected error codes (LEASE_HELD is contention; UNAVAILABLE and LEASE_LOST follow a kill)')
  t.same(v.overlaps, [], 'no two live grants on conflicting resources overlap')
  t.same(v.tokenOrder, [], 'tokens strictly increase per resource in grant order')
  t.same(v.repeated, [], 'no (resource, token) pair was granted twice')
  t.equal(v.grantLines, v.pairs, 'every grant line is a distinct (resource, token) pair')
  t.ok(v.fenced.accepted > 0, `${v.fenced.accepted} fenced writes accepted, ${v.fenced.refused} refused`)
  t.same(v.fenced.stale, [], 'no fenced write accepted after a later conflicting grant was answered')
})
