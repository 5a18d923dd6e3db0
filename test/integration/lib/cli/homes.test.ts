/**
 * Two CAIRN_HOMEs are two worlds: each gets its own daemon, socket and lock
 * file; stopping one leaves the other serving; neither sees the other's
 * repositories.
 */
import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { daemonPaths } from '../../../../lib/daemon/paths.ts'
import { sandbox } from '../../../helpers/tmp-repos.ts'
import { cli, envelope, stopDaemonOf } from '../daemon/daemon-helpers.ts'

t.test('two homes are isolated', async (t) => {
  const one = sandbox()
  const two = sandbox()
  t.teardown(async () => { await stopDaemonOf(one.home); await stopDaemonOf(two.home); one.cleanup(); two.cleanup() })
  const repoA = one.repo('a')
  const repoB = two.repo('b')
  const run = async (home: string, args: string[]) => envelope(await cli([...args, '--json', '--home', home], process.env))

  await run(one.home, ['issue', 'create', 'in one', '-C', repoA])
  await run(two.home, ['issue', 'create', 'in two', '-C', repoB])
  const s1 = (await run(one.home, ['daemon', 'status'])).data as { pid: number; home: string; socket: string; repos: string[] }
  const s2 = (await run(two.home, ['daemon', 'status'])).data as { pid: number; home: string; socket: string; repos: string[] }
  t.not(s1.pid, s2.pid, 'one daemon per home')
  t.same([s1.home, s1.socket], [one.home, daemonPaths(one.home).socket])
  t.same([s2.home, s2.socket], [two.home, daemonPaths(two.home).socket])
  t.same(s1.repos, [`${repoA}/.git`], 'home one serves only its repository')
  t.same(s2.repos, [`${repoB}/.git`], 'home two serves only its repository')
  t.equal(JSON.parse(readFileSync(daemonPaths(one.home).lock, 'utf8')).pid, s1.pid)
  t.equal(JSON.parse(readFileSync(daemonPaths(two.home).lock, 'utf8')).pid, s2.pid)

  t.match(await run(one.home, ['daemon', 'stop']), { ok: true, data: { wasRunning: true, pid: s1.pid } })
  t.notOk(existsSync(daemonPaths(one.home).socket), 'home one is down')
  t.match(await run(two.home, ['daemon', 'status']), { ok: true, data: { pid: s2.pid } }, 'home two still serves')
  t.same(((await run(two.home, ['issue', 'list', '-C', repoB])).data as { title: string }[]).map((i) => i.title), ['in two'])
  t.match(await run(one.home, ['daemon', 'status']), { ok: false, error: { code: 'UNAVAILABLE' } })
})
