/**
 * Reading WAL commits back: each commit's tree is checked against the layout
 * (lib/kernel/ports/git-wal.ts) before anything of it is returned, since WAL refs
 * arrive from other machines.
 */
import type { WalEntry } from '../../kernel/ports/git-wal.ts'
import { CairnError } from '../../../protocol/errors.ts'
import { GIT_ERROR, gitErrno, NodeGit, type Commit, type Repository } from './nodegit-api.ts'
import { META_FILE, walChunkPath, walEntryOf } from './wal-format.ts'
import { gitFailure } from './git-failure.ts'

/** One WAL commit, checked against the layout; nothing of a bad commit is returned. */
export async function readEntry(repo: Repository, link: Link): Promise<WalEntry> {
  const { id } = link
  const files = await filesOf(repo, link.commit as Commit)
  const chunkPath = walChunkPath(id, files.keys())
  const [metaBytes, chunkBytes] = await Promise.all([(files.get(META_FILE) as () => Promise<Buffer>)(), (files.get(chunkPath) as () => Promise<Buffer>)()])
  const chunk = new Uint8Array(chunkBytes.buffer, chunkBytes.byteOffset, chunkBytes.byteLength)
  return walEntryOf(id, link.parent, chunkPath, metaBytes, chunk)
}

export interface Link { id: string; commit: Commit | null; parent: string | null }

/** An existing ref that `ref` cannot coexist with (`a/b` and `a/b/c`), or null. */
export async function collidingRef(repo: Repository, ref: string): Promise<string | null> {
  const names = await NodeGit.Reference.list(repo)
  return names.find((n) => n !== ref && (ref.startsWith(`${n}/`) || n.startsWith(`${ref}/`))) ?? null
}

export async function lookupCommit(repo: Repository, id: string): Promise<Commit> {
  try {
    return await NodeGit.Commit.lookup(repo, id)
  } catch (err) {
    if (gitErrno(err) === GIT_ERROR.ENOTFOUND) throw new CairnError('NOT_FOUND', `git: no commit ${id}`, { commit: id })
    throw gitFailure(err, `reading commit ${id}`)
  }
}

/**
 * Every regular file of a commit's tree by path, as a loader of its bytes.
 * The listing is a diff against the empty tree: one native call for the whole
 * tree instead of one per directory level (5 for events/YYYY/MM/DD/): about
 * 75 µs instead of 185 µs per commit, measured. Blobs are read only once the layout is
 * known to be right, so a tree full of junk costs no blob reads.
 */
async function filesOf(repo: Repository, commit: Commit): Promise<Map<string, () => Promise<Buffer>>> {
  const { BLOB, EXECUTABLE } = NodeGit.TreeEntry.FILEMODE
  const diff = await NodeGit.Diff.treeToTree(repo, null, await commit.getTree(), null)
  const out = new Map<string, () => Promise<Buffer>>()
  for (let i = 0, n = diff.numDeltas(); i < n; i++) {
    const file = diff.getDelta(i).newFile()
    const mode = file.mode()
    // Symlinks and submodules are not files of the layout; skipping them makes them "missing".
    if (mode !== BLOB && mode !== EXECUTABLE) continue
    const id = file.id()
    // Blob#content() (nodegit's lib/blob.js) rather than rawcontent().toBuffer():
    // the native toBuffer calls the deprecated `new Buffer(n)`, and Node prints
    // DEP0005 unless the calling frame is inside node_modules.
    out.set(file.path(), async () => (await NodeGit.Blob.lookup(repo, id)).content())
  }
  return out
}
