/**
 * Repairing a damaged store (`cairn doctor --fix`) beside a live daemon
 * that serves other repositories, and recovering events that were
 * acknowledged but not yet drained into git from the damaged outbox.
 */
import t from 'tap'
import { statSync, truncateSync } from 'node:fs'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { createRuntime } from '../../lib/index.ts'
import { openStore } from '../../lib/kernel/store/open-store.ts'
import { openRepoDbs } from '../../actors/repo-worker/store/dbs.ts'
import { openWalState } from '../../actors/repo-worker/wal/drain.ts'
import { chunkRecordBytes } from '../../protocol/events/chunk.ts'
import { canonicalPreimage } from '../../protocol/events/canonical.ts'
import { walActors, walEventIds } from '../helpers/git-wal.ts'
import { damagedRepo, type DamagedRepo } from '../helpers/damaged-store.ts'
import { cliProcess, rssOf, stopDaemonOf } from '../integration/lib/daemon/daemon-helpers.ts'

let d: DamagedRepo
t.before(async () => { d = await damagedRepo() })
t.teardown(() => d.box.cleanup())

t.test('in the daemon: a damaged repository fails STORE_CORRUPT, a healthy one beside it is served, and after doctor --fix the same daemon serves both', async (t) => {
  t.teardown(() => stopDaemonOf(d.box.home))
  d.restore()
  const { box, repo, store } = d
  const healthy = box.repo('healthy')
  const viaDaemon = (cwd: string, ...args: string[]) => cliProcess(['--json', '--home', box.home, '-C', cwd, ...args], { cwd, env: { ...process.env, CAIRN_AGENT: 'a' }, timeoutMs: 120_000 })
  t.equal(JSON.parse((await viaDaemon(healthy, 'issue', 'create', 'fine')).stdout).ok, true, 'the healthy repository is served')
  const status = JSON.parse((await viaDaemon(healthy, 'daemon', 'status')).stdout)
  const pid = status.data.pid as number
  truncateSync(join(store, 'data.mdb'), Math.floor(statSync(join(store, 'data.mdb')).size / 2))
  const damaged = await viaDaemon(repo, 'issue', 'list')
  t.match(JSON.parse(damaged.stdout), { ok: false, error: { code: 'STORE_CORRUPT' } }, 'the damaged repository fails STORE_CORRUPT through the daemon')
  t.ok(Number.isFinite(await rssOf(pid)), 'the daemon is still alive')
  t.match(JSON.parse((await viaDaemon(healthy, 'issue', 'list')).stdout), { ok: true, data: [{ title: 'fine' }] }, 'the healthy repository is still served')
  const doctor = await viaDaemon(repo, 'doctor', '--fix')
  t.match(JSON.parse(doctor.stdout), { ok: true, data: { healthy: true, mode: 'daemon' } }, `doctor --fix rebuilds it while the daemon runs (${doctor.stdout.slice(-1500)})`)
  t.equal(JSON.parse((await viaDaemon(repo, 'issue', 'list')).stdout).data?.length, 12, 'the same daemon serves the rebuilt repository')
  t.equal(JSON.parse((await viaDaemon(healthy, 'daemon', 'status')).stdout).data.pid, pid, 'without a restart')
})

t.test('events acknowledged but not drained come back from the damaged outbox; one that cannot is named', async (t) => {
  d.restore()
  const { box, repo, store } = d
  // As if the drain never ran: every event only in the outbox, the WAL ref gone.
  for (const a of walActors(repo)) execFileSync('git', ['update-ref', '-d', `refs/cairn/wal/${a}`], { cwd: repo })
  const env = await openStore(store, 'repo')
  const dbs = openRepoDbs(env)
  let lost = ''
  await env.transaction(() => {
    for (const { key, value: e } of dbs.log.getRange({})) {
      const seq = key as number
      // The last one is an older-form entry (a plain id): it comes back only from the log, damaged below.
      if (seq === 84) {
        lost = e.eventId
        dbs.outbox.put(seq, e.eventId)
      } else dbs.outbox.put(seq, [e.eventId, e.actor, e.tsUnixMs, chunkRecordBytes(e.eventId, canonicalPreimage(e))])
    }
    for (const { key } of openWalState(env).getRange({})) openWalState(env).remove(key)
  })
  await env.close()
  d.flipValue('event-log', (key) => key.readUInt32LE(0) === 84)

  const doctor = await d.cairnHere('doctor', '--fix')
  const rebuild = JSON.parse(doctor.stdout).data.checks.find((c: { name: string }) => c.name === 'store-rebuild')
  t.match(rebuild?.report, { fromGit: { events: 0 }, outbox: { readable: true, entries: 84, restored: 83, unrecoverable: [lost] } },
    `83 undrained events restored from the outbox, the one that cannot be is named (${doctor.stdout.slice(-800)})`)
  t.match(rebuild.detail, new RegExp(`1 not recoverable \\(${lost}\\)`), 'the human line names it too')
  const rt = await createRuntime({ home: box.home, threads: 1 })
  try {
    const r = await rt.repo(repo, { agent: 'a' })
    await r.wal.flush()
    const inGit = walActors(repo).flatMap((a) => walEventIds(repo, a)).sort()
    t.same(inGit, d.drained.filter((id) => id !== lost), 'the restored events drain into git again; nothing else was lost')
  } finally {
    await rt.stop()
  }
})
