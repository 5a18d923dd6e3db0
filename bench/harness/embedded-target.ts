/**
 * The embedded target: a runtime created in this process (createRuntime with
 * the run's thread count and a home of its own) on a fresh `git init`ed
 * repository; each agent is a `runtime.repo(path, { agent })` handle.
 *
 * Sync runs against a bare repository made with `git init --bare` next to
 * the benchmark repository, and only when this build's Repo has `sync`: the
 * harness reports the operation as missing otherwise.
 */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { createRuntime, type LeaseHandle, type Repo } from '../../lib/index.ts'
import type { OpKind } from './mix.ts'
import { ALL_OPS, type HeldLease, type Session, type Target, type TargetOptions } from './target.ts'

type SyncFn = (opts: { remote: string }) => Promise<unknown>

/** The Repo's `sync`, when this build has one. */
export function syncOf(repo: Repo): SyncFn | null {
  const fn = (repo as unknown as { sync?: unknown }).sync
  return typeof fn === 'function' ? (fn as SyncFn).bind(repo) : null
}

function held(lease: LeaseHandle): HeldLease {
  return {
    resource: lease.resource,
    renew: (ttlMs) => lease.renew(ttlMs),
    release: () => lease.release(),
  }
}

/** Wraps one repo handle as an agent session; `remote` is the bare repository sync pushes to. */
export function embeddedSession(agent: string, repo: Repo, remote: string): Session {
  const sync = syncOf(repo)
  return {
    agent,
    create: (fields) => repo.issues.create(fields),
    comment: (id, body) => repo.issues.comment(id, body),
    label: (id, change) => repo.issues.label(id, change),
    update: (id, fields) => repo.issues.update(id, fields),
    close: (id) => repo.issues.close(id),
    claimNext: async (ttlMs) => {
      const won = await repo.issues.claimNext({ ttlMs, autoRenew: false })
      return won === null ? null : { issueId: won.issue.id, lease: held(won.lease) }
    },
    acquire: async (resource, ttlMs) => held(await repo.locks.acquire(resource, { ttlMs, autoRenew: false })),
    sync: async () => {
      if (sync === null) throw new Error('repo.sync is not in this build')
      return sync({ remote })
    },
  }
}

/**
 * Creates the runtime and the repository (and its bare remote).
 * @example const target = await openEmbedded({ threads: 2, dirs, name: 'burst' })
 */
export async function openEmbedded(opts: TargetOptions): Promise<Target> {
  const path = opts.dirs.repo(opts.name)
  const remote = join(opts.dirs.root, `${opts.name}-remote.git`)
  execFileSync('git', ['init', '-q', '--bare', remote])
  const runtime = await createRuntime({ home: opts.dirs.home(opts.name), threads: opts.threads })
  try {
    const probe = await runtime.repo(path, { agent: 'bench-probe' })
    const supports = new Set<OpKind>(ALL_OPS)
    const missing: Partial<Record<OpKind, string>> = {}
    if (syncOf(probe) === null) {
      supports.delete('sync')
      missing.sync = 'repo.sync() is not in this build of the library'
    }
    return {
      mode: 'embedded',
      supports,
      missing,
      serverPid: null,
      session: async (agent) => embeddedSession(agent, await runtime.repo(path, { agent }), remote),
      close: () => runtime.stop(),
    }
  } catch (err) {
    await runtime.stop()
    throw err
  }
}
