/**
 * lib/adapters/git/: the only place Cairn touches libgit2 (through nodegit).
 * Everything here implements a port from lib/kernel/ports/; nothing above the port
 * sees a nodegit object, so the rest of Cairn stays testable without git.
 *
 * This file loads nodegit and types the few calls the adapters use. nodegit
 * ships no type declarations (and @types/nodegit describes an older API), so
 * instead of an ambient `declare module` for the whole project we type only
 * what we call, next to the one import that needs it.
 *
 * Loading: nodegit is CommonJS. A default import works on both sides of the
 * thread boundary: on the main thread Node's ESM loader gives the CJS
 * `module.exports` as the default export; in a worker, tsx's require() hook
 * transpiles this module to CommonJS and its interop helper does the same
 * (nodegit sets no `__esModule`). No `import.meta` or top-level await here,
 * since a worker loads this file through require().
 */

// @ts-expect-error TS7016: nodegit has no type declarations; NodeGitApi below types the subset we use.
import nodegitUntyped from 'nodegit'

/** A git object id. `tostrS()` is its 40-char lowercase hex. */
export interface Oid { tostrS(): string }

export interface Repository {
  /** The git dir (`.../.git/` or the bare repository), with a trailing slash. */
  path(): string
  /**
   * Frees libgit2's caches and open handles (pack files, odb, refdb), on the
   * thread pool; the handle itself is freed by GC. nodegit has no free().
   */
  cleanup(): Promise<void>
  /** Every direct reference, and each symbolic one replaced by the reference it resolves to (one native call). */
  getReferences(): Promise<Reference[]>
}

export interface Reference {
  name(): string
  /** The direct target, or null for a symbolic reference. */
  target(): Oid | null
}

export type Signature = object

export interface Treebuilder {
  insert(name: string, id: Oid, filemode: number): unknown
  write(): Promise<Oid>
}

export type Tree = object

/** A tree diff; its deltas are plain accessors, no further native round trips. */
export interface Diff {
  numDeltas(): number
  getDelta(index: number): { newFile(): DiffFile }
}

export interface DiffFile { path(): string; id(): Oid; mode(): number }

export interface Commit {
  parentcount(): number
  parentId(n: number): Oid
  getTree(): Promise<Tree>
}

export interface Blob {
  /** A copy of the blob's bytes (nodegit's `rawcontent().toBuffer(rawsize())`). */
  content(): Buffer
}

/** An in-memory remote (createAnonymous) or a configured one (lookup). */
export interface Remote {
  url(): string
  name(): string | null
  fetch(refspecs: string[], opts: { callbacks?: RemoteCallbacks; downloadTags?: number; prune?: number }, reflogMessage: string): Promise<void>
  push(refspecs: string[], opts: { callbacks?: RemoteCallbacks }): Promise<void>
  connect(direction: number, callbacks: RemoteCallbacks): Promise<void>
  referenceList(): Promise<{ name(): string; oid(): Oid }[]>
  disconnect(): Promise<void>
}

export interface RemoteCallbacks {
  /** Called once per pushed ref; a non-empty `status` is the remote's refusal. */
  pushUpdateReference?: (refname: string, status: string | null) => void
}

export interface NodeGitApi {
  Remote: {
    createAnonymous(repo: Repository, url: string): Promise<Remote>
    lookup(repo: Repository, name: string): Promise<Remote>
  }
  Graph: { descendantOf(repo: Repository, commit: Oid, ancestor: Oid): Promise<number> }
  Enums: { DIRECTION: { FETCH: number; PUSH: number } }
  Repository: { open(path: string): Promise<Repository> }
  Blob: {
    createFromBuffer(repo: Repository, buffer: Buffer, length: number): Promise<Oid>
    lookup(repo: Repository, id: Oid): Promise<Blob>
  }
  Treebuilder: { create(repo: Repository, source: Tree | null): Promise<Treebuilder> }
  Tree: { lookup(repo: Repository, id: Oid | string): Promise<Tree> }
  Diff: { treeToTree(repo: Repository, oldTree: Tree | null, newTree: Tree, options: null): Promise<Diff> }
  Commit: {
    lookup(repo: Repository, id: Oid | string): Promise<Commit>
    create(
      repo: Repository, updateRef: string | null, author: Signature, committer: Signature,
      encoding: string | null, message: string, tree: Tree, parentCount: number, parents: Commit[],
    ): Promise<Oid>
  }
  Signature: { create(name: string, email: string, timeSeconds: number, offsetMinutes: number): Signature }
  Reference: {
    create(repo: Repository, name: string, id: Oid, force: 0 | 1, logMessage: string): Promise<Reference>
    createMatching(
      repo: Repository, name: string, id: Oid, force: 0 | 1, currentId: Oid, logMessage: string,
    ): Promise<Reference>
    nameToId(repo: Repository, name: string): Promise<Oid>
    /** The names of all references, symbolic ones included. */
    list(repo: Repository): Promise<string[]>
    /** libgit2's `git_reference_is_valid_name`: 1 or 0. */
    isValidName(name: string): number
  }
  Oid: { fromString(hex: string): Oid }
  TreeEntry: { FILEMODE: { TREE: number; BLOB: number; EXECUTABLE: number } }
  Libgit2: { opts(option: number, value: number): number; OPT: { ENABLE_FSYNC_GITDIR: number } }
}

/** nodegit, typed by {@link NodeGitApi}. */
export const NodeGit = nodegitUntyped as NodeGitApi

/**
 * libgit2's error codes (`git2/errors.h`), as nodegit puts them on a rejected
 * promise's `errno`. Only those the adapters map to outcomes are listed.
 */
export const GIT_ERROR = {
  ENOTFOUND: -3,
  EEXISTS: -4,
  EINVALIDSPEC: -12,
  ELOCKED: -14,
  EMODIFIED: -15,
  ENONFASTFORWARD: -11,
  EAUTH: -16,
  ECERTIFICATE: -17,
} as const

/** The libgit2 error code carried by a nodegit rejection, or undefined. */
export function gitErrno(err: unknown): number | undefined {
  const errno = (err as { errno?: unknown } | null)?.errno
  return typeof errno === 'number' ? errno : undefined
}
