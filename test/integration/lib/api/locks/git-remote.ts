/**
 * Real git remotes for the cross-machine lease tests: a bare repository with
 * clones, `git daemon` on 127.0.0.1 started and stopped by the test, and the
 * lease chain read back with the git CLI only (never through Cairn).
 */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { createRuntime, type Repo, type Runtime } from '../../../../../lib/index.ts'
import { ManualClock } from '../../../../../lib/testing/index.ts'
import { sandbox, type Sandbox } from '../../../../helpers/tmp-repos.ts'

/** A bare repository `<dir>/remote.git` and `count` clones of it (`clone-0`, ...) with `origin` set. */
export function bareWithClones(dir: string, count: number): { bare: string; clones: string[] } {
  const bare = join(dir, 'remote.git')
  execFileSync('git', ['init', '-q', '--bare', bare])
  const clones = Array.from({ length: count }, (_, i) => {
    const path = join(dir, `clone-${i}`)
    execFileSync('git', ['clone', '-q', bare, path], { stdio: 'ignore' })
    return path
  })
  return { bare, clones }
}

/** The lease ref of a resource key, computed here independently of Cairn. */
export function expectedLeaseRef(resource: string): string {
  return `refs/cairn/leases/${createHash('sha256').update(resource).digest('hex').slice(0, 16)}`
}

export interface ChainLink {
  commit: string
  parents: string[]
  lease: { op: string; resource: string; holder: { actor: string; session: string }; epoch: number; seq: number; expiresAt: number; heartbeatAt: number; graceMs: number; ttlMs: number }
}

/** The first-parent chain of `ref` in the bare repository, oldest first, through `git rev-list` and `git show`. */
export function chainOf(bare: string, ref: string): ChainLink[] {
  const lines = execFileSync('git', ['-C', bare, 'rev-list', '--first-parent', '--reverse', '--parents', ref], { encoding: 'utf8' }).trim().split('\n')
  return lines.map((line) => {
    const [commit, ...parents] = line.split(' ') as [string, ...string[]]
    return { commit, parents, lease: JSON.parse(execFileSync('git', ['-C', bare, 'show', `${commit}:lease.json`], { encoding: 'utf8' })) }
  })
}

/**
 * Two "machines": runtimes with their own homes, each on its own clone of
 * one bare remote, with `agents` repo handles each. Both read `clock` (one
 * ManualClock drives both runtimes' threads) unless `clockB` is given.
 */
export async function twoMachines(t: { teardown(fn: () => unknown): void }, agents = 1, clockB?: ManualClock): Promise<{
  box: Sandbox; bare: string; clock: ManualClock; a: Repo[]; b: Repo[]
}> {
  const box = sandbox()
  const { bare, clones } = bareWithClones(box.dir, 2)
  const clock = new ManualClock(T0)
  const rtA = await createRuntime({ home: join(box.dir, 'home-a'), threads: 1, clock, watchdog: false })
  const rtB = await createRuntime({ home: join(box.dir, 'home-b'), threads: 1, clock: clockB ?? clock, watchdog: false })
  t.teardown(async () => { await Promise.all([rtA.stop(), rtB.stop()]); box.cleanup() })
  const handles = (rt: Runtime, clone: string, name: string) => Promise.all(Array.from({ length: agents }, (_, i) => rt.repo(clone, { agent: `${name}${i}` })))
  return { box, bare, clock, a: await handles(rtA, clones[0] as string, 'a'), b: await handles(rtB, clones[1] as string, 'b') }
}

export const T0 = 1_800_000_000_000
