/**
 * Cross-machine leases under contention: two runtimes with their own homes,
 * each on its own clone, race for one resource on one bare remote, over
 * file:// (Cairn's direct compare-and-swap), over `git daemon` on 127.0.0.1
 * (receive-pack's), and over both at once on the same ref. Never two
 * holders: checked as it happens, and afterwards on the chain itself with
 * the git CLI (every acquire commit sits on a released tip, epochs strictly
 * increase, every returned token is an acquire commit's epoch).
 *
 * Time stands still on the ManualClock, so no lease can lapse: a grant on a
 * tip that is not a release would be a double grant.
 */
import t from 'tap'
import type { Repo } from '../../../../../lib/index.ts'
import { chainOf, expectedLeaseRef, twoMachines, type ChainLink } from './git-remote.ts'
import { startGitDaemon } from '../../../../helpers/git-daemon.ts'

type Test = Parameters<Parameters<typeof t.test>[0]>[0]

const TTL = 60_000
const ALLOWED_LOSSES = new Set(['LEASE_HELD', 'BUSY'])

interface Outcome { wins: { who: string; token: number }[]; losses: Map<string, number>; overlaps: number; attempts: number }

/**
 * `rounds` rounds; in each, every contender tries at once; a winner holds
 * across a turn of the event loop, then releases. `overlaps` counts grants
 * made while another contender still held the lease (must stay 0).
 */
async function contend(contenders: { who: string; repo: Repo; remote: string }[], resource: string, rounds: number): Promise<Outcome> {
  const out: Outcome = { wins: [], losses: new Map(), overlaps: 0, attempts: 0 }
  let holding = 0
  for (let round = 0; round < rounds; round++) {
    await Promise.all(contenders.map(async ({ who, repo, remote }) => {
      out.attempts++
      try {
        const lease = await repo.locks.acquire(resource, { ttlMs: TTL, scope: 'remote', remote, autoRenew: false })
        if (holding > 0) out.overlaps++
        holding++
        out.wins.push({ who, token: lease.token })
        await new Promise((r) => setImmediate(r))
        holding--
        await lease.release()
      } catch (err) {
        const code = (err as { code?: string }).code ?? String(err)
        out.losses.set(code, (out.losses.get(code) ?? 0) + 1)
      }
    }))
  }
  return out
}

/** Everything "never two holders" means on the chain; returns the acquire commits' epochs. */
function checkChain(t: Test, chain: ChainLink[], resource: string): number[] {
  const bad: string[] = []
  const epochs: number[] = []
  chain.forEach((link, i) => {
    const prev = chain[i - 1]
    const l = link.lease
    if (l.resource !== resource) bad.push(`${i}: resource ${l.resource}`)
    if (l.seq !== i + 1) bad.push(`${i}: seq ${l.seq}, chain length ${i + 1}`)
    if (link.parents.length !== (prev ? 1 : 0) || (prev && link.parents[0] !== prev.commit)) bad.push(`${i}: parents ${link.parents.join(',')}`)
    if (l.op === 'acquire') {
      if (l.epoch !== l.seq) bad.push(`${i}: acquire epoch ${l.epoch} is not its seq ${l.seq}`)
      if (prev && prev.lease.op !== 'release') bad.push(`${i}: acquired on a ${prev.lease.op} tip (epoch ${prev.lease.epoch}): two holders`)
      if (epochs.length > 0 && l.epoch <= (epochs.at(-1) as number)) bad.push(`${i}: epoch ${l.epoch} does not increase`)
      epochs.push(l.epoch)
    } else if (!prev || prev.lease.op === 'release' || prev.lease.epoch !== l.epoch || prev.lease.holder.session !== l.holder.session
      || prev.lease.holder.actor !== l.holder.actor) {
      bad.push(`${i}: ${l.op} does not extend the lease before it`)
    }
  })
  t.same(bad, [], `the chain of ${chain.length} commits has no double grant`)
  return epochs
}

function checkOutcome(t: Test, out: Outcome, epochs: number[], rounds: number): void {
  t.equal(out.overlaps, 0, 'no grant while another contender held the lease')
  t.equal(out.wins.length + [...out.losses.values()].reduce((x, y) => x + y, 0), out.attempts, 'every attempt was answered')
  t.ok(out.wins.length >= rounds, `every round had a winner (${out.wins.length} wins in ${rounds} rounds)`)
  t.same([...out.losses.keys()].filter((c) => !ALLOWED_LOSSES.has(c)), [], `losers only hear LEASE_HELD or BUSY: ${JSON.stringify([...out.losses])}`)
  t.same(out.wins.map((w) => w.token).sort((x, y) => x - y), epochs, 'each token returned is exactly one acquire commit\'s epoch')
}

t.test('two machines contend through one bare remote', async (t) => {
  // One pair of runtimes and one daemon for the three races: each race has a resource (a chain) of its own.
  const { box, bare, a, b } = await twoMachines(t, 2)
  const daemon = await startGitDaemon(box.dir)
  t.teardown(() => daemon.stop())
  const viaDaemon = daemon.url('remote.git')
  const [a0, a1] = a as [Repo, Repo]
  const [b0, b1] = b as [Repo, Repo]

  t.test('over file://: four agents, never two holders', async (t) => {
    const resource = 'path:shared/file'
    const rounds = 10
    const out = await contend([
      { who: 'a0', repo: a0, remote: 'origin' }, { who: 'a1', repo: a1, remote: 'origin' },
      { who: 'b0', repo: b0, remote: 'origin' }, { who: 'b1', repo: b1, remote: 'origin' },
    ], resource, rounds)
    const chain = chainOf(bare, expectedLeaseRef(resource))
    checkOutcome(t, out, checkChain(t, chain, resource), rounds)
    t.equal(chain.at(-1)?.lease.op, 'release', 'the last holder released: the resource is free')
    t.equal(chain.at(-1)?.lease.expiresAt, 0, 'a release commit has expiry 0')
  })

  t.test('over git daemon on 127.0.0.1: never two holders', async (t) => {
    const resource = 'issue:d00d'
    const rounds = 8
    const out = await contend([{ who: 'a0', repo: a0, remote: viaDaemon }, { who: 'b0', repo: b0, remote: viaDaemon }], resource, rounds)
    checkOutcome(t, out, checkChain(t, chainOf(bare, expectedLeaseRef(resource)), resource), rounds)
  })

  t.test('file:// and git:// writers on the same ref: both compare-and-swaps exclude each other', async (t) => {
    const resource = 'repo:main'
    const rounds = 8
    const out = await contend([{ who: 'a-file', repo: a0, remote: bare }, { who: 'b-daemon', repo: b0, remote: viaDaemon }], resource, rounds)
    checkOutcome(t, out, checkChain(t, chainOf(bare, expectedLeaseRef(resource)), resource), rounds)
  })
})
