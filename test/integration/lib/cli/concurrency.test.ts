/**
 * Real `cairn` processes at once: 20 started together on a home with no
 * daemon start exactly one; then 50 concurrent processes mixing `issue
 * create` and `issue list` all succeed with correct results.
 */
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { daemonPaths } from '../../../../lib/daemon/paths.ts'
import { sandbox } from '../../../helpers/tmp-repos.ts'
import { cliProcess, eventually, stopDaemonOf } from '../daemon/daemon-helpers.ts'

/** Live `daemon start --foreground` processes for `home` (from /proc). */
function daemonsOf(home: string): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    let argv: string[]
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0')
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z') continue
    } catch {
      continue
    }
    const i = argv.indexOf('--home')
    if (argv.includes('--foreground') && argv.includes('daemon') && i >= 0 && argv[i + 1] === home) pids.push(Number(entry))
  }
  return pids
}

t.test('20 CLIs started at once on a home without a daemon: exactly one daemon, all succeed', async (t) => {
  const box = sandbox()
  t.teardown(async () => { await stopDaemonOf(box.home); box.cleanup() })
  const repo = box.repo('race')
  const env = { ...process.env, CAIRN_HOME: box.home }
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => cliProcess(['issue', 'create', `race ${i}`, '--json'], { cwd: repo, env })))
  t.same(results.map((r) => r.code), Array(20).fill(0), `all 20 succeed (${results.find((r) => r.code !== 0)?.stderr ?? ''})`)
  t.same(results.map((r) => JSON.parse(r.stdout).data.title).sort(), Array.from({ length: 20 }, (_, i) => `race ${i}`).sort())
  const status = await cliProcess(['daemon', 'status', '--json'], { cwd: repo, env })
  const pid = JSON.parse(status.stdout).data.pid as number
  await eventually(() => daemonsOf(box.home).length <= 1, 10_000)
  t.same(daemonsOf(box.home), [pid], 'exactly one daemon process serves the home')
  const log = readFileSync(daemonPaths(box.home).log, 'utf8')
  t.equal(log.match(/serving /g)?.length, 1, 'and only one was ever launched')
})

t.test('50 concurrent CLI processes mixing create and list: all succeed with correct results', async (t) => {
  const box = sandbox()
  t.teardown(async () => { await stopDaemonOf(box.home); box.cleanup() })
  const repo = box.repo('fifty')
  const env = { ...process.env, CAIRN_HOME: box.home }
  const seeded = await cliProcess(['issue', 'create', 'seed', '--json'], { cwd: repo, env })
  t.equal(seeded.code, 0, 'the first call starts the daemon')
  const runs = await Promise.all(Array.from({ length: 50 }, (_, i) => cliProcess(
    i % 2 ? ['issue', 'list', '--json'] : ['issue', 'create', `task ${i}`, '--json'], { cwd: repo, env })))
  t.same(runs.map((r) => r.code), Array(50).fill(0), `all 50 exit 0 (${runs.find((r) => r.code !== 0)?.stderr ?? ''})`)
  const created = runs.filter((_, i) => i % 2 === 0).map((r) => JSON.parse(r.stdout).data as { id: string; title: string })
  t.same(created.map((c) => c.title).sort(), Array.from({ length: 25 }, (_, i) => `task ${i * 2}`).sort(), 'every create made its issue')
  t.equal(new Set(created.map((c) => c.id)).size, 25, 'with distinct ids')
  const allowed = new Set(['seed', ...created.map((c) => c.title)])
  for (const r of runs.filter((_, i) => i % 2 === 1)) {
    const titles = (JSON.parse(r.stdout).data as { title: string }[]).map((x) => x.title)
    t.ok(titles[0] === 'seed' && titles.every((x) => allowed.has(x)), `a concurrent list sees a consistent board (${titles.length} issues)`)
  }
  const final = await cliProcess(['issue', 'list', '--json'], { cwd: repo, env })
  t.same((JSON.parse(final.stdout).data as { title: string }[]).map((x) => x.title).sort(), [...allowed].sort(), 'the final list has exactly the seed and the 25 creates')
})
