/**
 * Writes small git objects and refs of this process's own making straight
 * into a repository (the files backend, SHA-1 object format), without a git
 * process: a claim (claim-refs.ts) is one push round trip, and a process
 * spawn for its commit cost a fair part of what a claim adds to that round
 * trip on a busy machine.
 *
 * Exactly what git writes: a loose object is `<type> <size>\0<body>`,
 * zlib-deflated, at `objects/<2 hex>/<38 hex>` of its SHA-1, read-only; it
 * reaches its name through a temporary file in the same directory and a
 * link (an object already there is never overwritten, as git does). A loose
 * ref goes through `<ref>.lock` created exclusively, then a rename, so a git
 * holding the same lock makes the write fail instead of racing it.
 *
 * Synchronous file calls: a few hundred bytes each, no fsync (as git
 * by default), where a trip through libuv's thread pool per call (shared
 * with LMDB and zlib) cost milliseconds under load.
 *
 * Only for repositories this is right for: `repoLayout` says whether a
 * repository is SHA-1 with loose refs (no reftable); callers use git itself
 * otherwise.
 */
import { createHash, randomBytes } from 'node:crypto'
import { closeSync, existsSync, linkSync, mkdirSync, openSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { deflateSync } from 'node:zlib'
import { runGit } from './git-cli.ts'
import type { GitPlace } from './cli-remote.ts'

const OBJECT_ID = /^[0-9a-f]{40}$/

/** Where a repository keeps objects and refs, when this module may write them itself. */
export interface RepoLayout {
  /** The common git dir (a linked worktree's objects and refs live there). */
  commonDir: string
  objectsDir: string
}

/** The layout of `place`'s repository, or null when its objects are not SHA-1 or its refs are in a reftable (use git then). */
export async function repoLayout(place: GitPlace): Promise<RepoLayout | null> {
  const r = await runGit(['rev-parse', '--git-common-dir', '--show-object-format'], { ...place, timeoutMs: 30_000 })
  if (r.code !== 0) return null
  const [common, format] = r.stdout.split('\n').map((l) => l.trim())
  if (!common || format !== 'sha1') return null
  const commonDir = resolve(place.cwd, common)
  if (existsSync(join(commonDir, 'reftable'))) return null
  return { commonDir, objectsDir: join(commonDir, 'objects') }
}

/** The id git gives `body` as an object of `type`. */
export function objectId(type: 'blob' | 'tree' | 'commit', body: Buffer): string {
  return createHash('sha1').update(`${type} ${body.length}\0`).update(body).digest('hex')
}

/** Stores `body` as a loose object (unless it is there already); its id. */
export function writeLooseObject(objectsDir: string, type: 'blob' | 'tree' | 'commit', body: Buffer): string {
  const id = objectId(type, body)
  const dir = join(objectsDir, id.slice(0, 2))
  const path = join(dir, id.slice(2))
  if (existsSync(path)) return id
  mkdirSync(dir, { recursive: true })
  const tmp = join(dir, `tmp_obj_cairn_${randomBytes(6).toString('hex')}`)
  writeFileSync(tmp, deflateSync(Buffer.concat([Buffer.from(`${type} ${body.length}\0`), body])), { mode: 0o444 })
  try {
    linkSync(tmp, path)
  } catch (err) {
    // Another writer stored the same object meanwhile: same id, same content.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  } finally {
    try { unlinkSync(tmp) } catch { /* gone already */ }
  }
  return id
}

/** A commit's body as `git commit-tree` writes it with one author for both author and committer, dated in UTC. */
export function commitBody(c: { tree: string; parent: string | null; name: string; email: string; seconds: number; message: string }): Buffer {
  if (!OBJECT_ID.test(c.tree) || (c.parent !== null && !OBJECT_ID.test(c.parent))) throw new TypeError('tree and parent must be 40-hex object ids')
  // git strips these from identities; ours never hold them, and must not smuggle a header line in.
  if (/[<>\n\0]/.test(c.name + c.email) || !Number.isSafeInteger(c.seconds) || c.seconds < 0) throw new TypeError('identity or date not writable as is')
  const who = `${c.name} <${c.email}> ${c.seconds} +0000`
  return Buffer.from(`tree ${c.tree}\n${c.parent === null ? '' : `parent ${c.parent}\n`}author ${who}\ncommitter ${who}\n\n${c.message}`)
}

/**
 * Points loose ref `ref` at `id` under its lock; false (nothing written)
 * when the lock is held by someone else right now.
 */
export function writeLooseRef(commonDir: string, ref: string, id: string): boolean {
  if (!OBJECT_ID.test(id) || !/^refs\/[A-Za-z0-9._/-]+$/.test(ref) || ref.includes('..') || ref.endsWith('.lock')) throw new TypeError(`not a ref Cairn writes: ${ref}`)
  const path = join(commonDir, ref)
  mkdirSync(dirname(path), { recursive: true })
  const lock = `${path}.lock`
  let fd: number
  try {
    fd = openSync(lock, 'wx', 0o644)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw err
  }
  try {
    writeSync(fd, `${id}\n`)
    closeSync(fd)
    fd = -1
    renameSync(lock, path)
    return true
  } catch (err) {
    if (fd >= 0) try { closeSync(fd) } catch { /* closed */ }
    try { unlinkSync(lock) } catch { /* gone */ }
    throw err
  }
}
