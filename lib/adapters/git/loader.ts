/**
 * The one lazy nodegit loader. nodegit takes about 100 ms to load, so a
 * repository that never writes its WAL, syncs or leases across machines never
 * pays for it, and opening a repository to serve never waits for it.
 *
 * From the sources, worker threads run Cairn through tsx's CommonJS hook,
 * where a dynamic `import()` of a `.ts` file is not hooked: a plain require()
 * loads the adapters there. The compiled package is plain ESM and uses import()
 * of literal paths, so the build's bundle of the repository thread
 * (scripts/build.mjs) can put them in a chunk of their own that shares the
 * thread's modules (one CairnError class, one codec).
 */
import { createRequire } from 'node:module'
import type { GitOpeners } from '../../kernel/ports/git.ts'

type NodegitWal = typeof import('./nodegit-wal.ts')
type NodegitLeaseRefs = typeof import('./nodegit-lease-refs.ts')

const FROM_SOURCES = import.meta.url.endsWith('.ts')

async function load<T>(name: 'nodegit-wal' | 'nodegit-lease-refs'): Promise<T> {
  if (FROM_SOURCES) {
    const req = typeof require === 'function' ? require : createRequire(import.meta.url)
    return req(`./${name}.ts`) as T
  }
  return (name === 'nodegit-wal' ? await import('./nodegit-wal.ts') : await import('./nodegit-lease-refs.ts')) as T
}

/**
 * Openers backed by nodegit, loaded on first use.
 * @example const git = nodegitOpeners(); const wal = await git.openWal(gitDir)
 */
export function nodegitOpeners(): GitOpeners {
  return {
    openWal: async (gitDir) => (await load<NodegitWal>('nodegit-wal')).openGitWal(gitDir),
    openSync: async (gitDir) => (await load<NodegitWal>('nodegit-wal')).openGitSync(gitDir),
    openLeaseRefs: async (gitDir) => (await load<NodegitLeaseRefs>('nodegit-lease-refs')).openLeaseRefs(gitDir),
  }
}
