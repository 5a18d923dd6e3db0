/**
 * A remote with latency: `git daemon` on 127.0.0.1 behind the delay proxy
 * (test/helpers/delay-proxy.ts, since the kernel here has no netem). The
 * proxy really delays (an echo round trip takes at least twice its delay,
 * order is kept), and sync and remote leases work through it as they do
 * without it.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { once } from 'node:events'
import { connect, createServer } from 'node:net'
import { join } from 'node:path'
import { createRuntime, type Repo } from '../../../../../lib/index.ts'
import { sandbox } from '../../../../helpers/tmp-repos.ts'
import { startGitDaemon } from '../../../../helpers/git-daemon.ts'
import { startDelayProxy } from '../../../../helpers/delay-proxy.ts'

const DELAY_MS = 30

t.test('the proxy delays each direction and keeps order', async (t) => {
  const echo = createServer((s) => s.pipe(s))
  echo.listen(0, '127.0.0.1')
  await once(echo, 'listening')
  t.teardown(() => new Promise((r) => echo.close(r)))
  const proxy = await startDelayProxy({ port: (echo.address() as { port: number }).port, delayMs: DELAY_MS })
  t.teardown(() => proxy.stop())
  const sock = connect(proxy.port, '127.0.0.1')
  await once(sock, 'connect')
  let got = ''
  sock.setEncoding('utf8')
  sock.on('data', (d: string) => { got += d })
  const t0 = performance.now()
  for (let i = 0; i < 50; i++) sock.write(`${i},`)
  const expected = Array.from({ length: 50 }, (_, i) => `${i},`).join('')
  for (let i = 0; i < 200 && got.length < expected.length; i++) await new Promise((r) => setTimeout(r, 10))
  const rtt = performance.now() - t0
  t.equal(got, expected, 'every byte back, in order')
  t.ok(rtt >= 2 * DELAY_MS - 1, `the round trip took ${rtt.toFixed(1)} ms, at least twice the ${DELAY_MS} ms delay`)
  t.equal(proxy.connections(), 1)
  t.same(proxy.bytes(), { up: expected.length, down: expected.length })
  sock.destroy()
})

t.test('sync and remote leases through git daemon behind the proxy', async (t) => {
  const box = sandbox()
  execFileSync('git', ['init', '-q', '--bare', join(box.dir, 'remote.git')])
  const daemon = await startGitDaemon(box.dir)
  const proxy = await startDelayProxy({ port: daemon.port, delayMs: DELAY_MS })
  const runtimes = await Promise.all(['a', 'b'].map((n) => createRuntime({ home: join(box.dir, `home-${n}`), threads: 1 })))
  t.teardown(async () => {
    await Promise.all(runtimes.map((rt) => rt.stop()))
    await proxy.stop()
    await daemon.stop()
    box.cleanup()
  })
  const url = `git://127.0.0.1:${proxy.port}/remote.git`
  const [a, b] = await Promise.all(runtimes.map((rt, i) => rt.repo(box.repo(`clone-${i}`), { agent: `agent-${i}` }))) as [Repo, Repo]
  const issue = await a.issues.create({ title: 'slow but sure' })
  t.equal((await a.sync({ remote: url })).pushed, 1)
  t.equal((await b.sync({ remote: url })).pulled, 1)
  t.equal((await b.issues.show(issue.id)).title, 'slow but sure')
  const lease = await a.locks.acquire('path:slow', { ttlMs: 30_000, scope: 'remote', remote: url, autoRenew: false })
  t.match(await b.locks.acquire('path:slow', { ttlMs: 30_000, scope: 'remote', remote: url }).catch((e) => e), { code: 'LEASE_HELD' })
  await lease.release()
  t.ok((await b.locks.acquire('path:slow', { ttlMs: 30_000, scope: 'remote', remote: url, autoRenew: false })).token > lease.token)
  t.ok(proxy.connections() >= 6, `every call went through the proxy (${proxy.connections()} connections)`)
})
