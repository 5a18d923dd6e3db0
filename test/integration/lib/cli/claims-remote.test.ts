/**
 * Claims through a coordination remote, end to end through the CLI and the
 * daemon (issue 19): two clones with their own homes name one bare remote
 * with `cairn coordination`. `cairn issue claim` on both: exactly one wins
 * the single ready issue and the remote names it; the other exits "nothing
 * to claim"; `cairn issue close` marks the claim done on the remote; the
 * loser's stale board still cannot claim it; an explicit `lock acquire` of
 * the issue is refused with LEASE_HELD.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { EXIT_CODES, EXIT_NOTHING_TO_CLAIM } from '../../../../lib/cli/exit-codes.ts'
import { sandbox } from '../../../helpers/tmp-repos.ts'
import { cli, envelope, stopDaemonOf } from '../daemon/daemon-helpers.ts'

const claimOf = (bare: string, id: string): { state: string; holder: { actor: string } } =>
  JSON.parse(execFileSync('git', ['-C', bare, 'log', '-1', '--format=%b', `refs/cairn/claims/${id}`], { encoding: 'utf8' }).trim())

t.test('cairn issue claim / close through a coordination remote: one winner, done on the remote, stale boards stay out', async (t) => {
  const box = sandbox()
  const homes = [join(box.dir, 'home-a'), join(box.dir, 'home-b')]
  t.teardown(async () => { for (const h of homes) await stopDaemonOf(h); box.cleanup() })
  const bare = join(box.dir, 'remote.git')
  execFileSync('git', ['init', '-q', '--bare', bare])
  const clones = [box.repo('a'), box.repo('b')]
  const run = (i: number, ...args: string[]) => cli([...args, '--json', '-C', clones[i]!], { ...process.env, CAIRN_HOME: homes[i]! })

  for (const i of [0, 1]) t.equal((await run(i, 'coordination', bare)).code, 0, 'cairn coordination sets the remote')
  const { id } = envelope(await run(0, 'issue', 'create', 'the only one')).data as { id: string }
  t.equal((await run(0, 'sync', '--remote', bare)).code, 0)
  t.equal((await run(1, 'sync', '--remote', bare)).code, 0)

  const both = await Promise.all([0, 1].map((i) => run(i, 'issue', 'claim', '--ttl', '60000')))
  const winners = both.map((r, i) => ({ r, i })).filter(({ r }) => r.code === 0)
  t.equal(winners.length, 1, `exactly one host claimed it (exits ${both.map((r) => r.code).join(', ')})`)
  const w = winners[0]!.i
  const l = 1 - w
  t.equal(both[l]!.code, EXIT_NOTHING_TO_CLAIM, 'the other had nothing to claim')
  const claimed = envelope(both[w]!).data as { issue: { id: string } }
  t.equal(claimed.issue.id, id)
  t.equal(claimOf(bare, id).state, 'held', 'the remote holds the claim')

  const refused = await run(l, 'lock', 'acquire', `issue:${id}`, '--ttl', '60000')
  t.match(envelope(refused), { ok: false, error: { code: 'LEASE_HELD', message: /coordination remote/ } }, 'an explicit lease on the other host is refused')
  t.equal(refused.code, EXIT_CODES.LEASE_HELD)

  t.equal((await run(w, 'issue', 'close', id)).code, 0, 'the winner closes it')
  t.equal(claimOf(bare, id).state, 'done', 'the claim is done on the remote')
  t.equal((envelope(await run(l, 'issue', 'show', id)).data as { state: string }).state, 'open', 'the loser\'s board has not seen the close')
  t.equal((await run(l, 'issue', 'claim', '--ttl', '60000')).code, EXIT_NOTHING_TO_CLAIM, 'and still cannot claim it')
})
