/**
 * Two runtimes (two homes, two processes' worth of actors) on one clone,
 * writing and syncing with one remote at the same time. They share the
 * clone's WAL refs and tracking refs, so each pushes refs the other pushes
 * too: a push that loses the race finds the remote ref moved. That is not
 * a rewrite: the sync re-reads the remote and finishes. No sync may fail,
 * and a fresh replica pulls every event.
 *
 * Over git daemon (receive-pack's compare-and-swap refuses the loser's
 * update) and over a path (the same receive-pack, run locally).
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { createRuntime, type Repo, type SyncReport } from '../../../../lib/index.ts'
import { sandbox } from '../../../helpers/tmp-repos.ts'
import { startGitDaemon } from '../../../helpers/git-daemon.ts'

const SYNCS_PER_RUNTIME = 8
/** Issues per writer, at most: writes go on while the syncs run, so every sync has new refs to push. */
const ISSUES_PER_WRITER = 60

for (const transport of ['git daemon', 'path'] as const) {
  t.test(`two runtimes on one clone sync with one remote at once (${transport}): none refuses the other`, async (t) => {
    const box = sandbox()
    const bare = join(box.dir, 'remote.git')
    execFileSync('git', ['init', '-q', '--bare', bare])
    const daemon = transport === 'git daemon' ? await startGitDaemon(box.dir) : null
    const remote = daemon ? daemon.url('remote.git') : bare
    const clone = box.repo('shared')
    const runtimes = await Promise.all([1, 2].map((n) => createRuntime({ home: join(box.dir, `home-${n}`), threads: 1 })))
    t.teardown(async () => {
      await Promise.all(runtimes.map((rt) => rt.stop()))
      await daemon?.stop()
      box.cleanup()
    })
    const writers: Repo[][] = await Promise.all(runtimes.map((rt, r) => Promise.all([0, 1].map((a) => rt.repo(clone, { agent: `r${r}-a${a}` })))))
    let writing = true
    let written = 0
    const write = async (repo: Repo): Promise<void> => {
      for (let i = 0; writing && i < ISSUES_PER_WRITER; i++) {
        const issue = await repo.issues.create({ title: `${repo.actor.slice(0, 6)} ${i}` })
        await repo.issues.comment(issue.id, 'and a comment')
        written += 2
        await new Promise((r) => setTimeout(r, 25))
      }
    }
    const writes = writers.flat().map(write)
    const failures: string[] = []
    const reports: SyncReport[] = []
    // Rounds in lockstep: both runtimes fetch the same tips and push the same refs at once, so pushes race.
    for (let i = 0; i < SYNCS_PER_RUNTIME; i++) {
      await Promise.all(writers.map(async ([repo]) => {
        try {
          reports.push(await repo!.sync({ remote }))
        } catch (err) {
          failures.push(`${(err as { code?: string }).code}: ${(err as Error).message}`)
        }
      }))
    }
    writing = false
    await Promise.all(writes)
    t.same(failures, [], `${reports.length} syncs, none failed`)
    t.equal(reports.filter((r) => r.refs.some((ref) => ref.status === 'rejected')).length, 0, 'no report names a rejected ref')

    // Both runtimes push what is left; then a fresh replica holds every event.
    for (const [repo] of writers) await repo!.sync({ remote })
    const rt = await createRuntime({ home: join(box.dir, 'home-reader'), threads: 1 })
    t.teardown(() => rt.stop())
    const reader = await rt.repo(box.repo('reader'), { agent: 'reader' })
    await reader.sync({ remote, push: false })
    t.equal((await reader.events.stats()).events, written, `the remote holds all ${written} events`)
  })
}
