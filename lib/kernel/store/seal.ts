/**
 * A store's seal: what its `data.mdb` was when its last writer closed it
 * cleanly, so the next open can skip the whole-file page walk (store-file.ts,
 * 0.4-1.2 s on a store of 228 MB) for a file nobody changed since.
 *
 * The seal (`<dir>/data.mdb.seal`, JSON, written by rename) records the
 * file's device, inode, size, ctime and the transaction ids of both meta
 * pages. Any write to the file changes its ctime (in the page fault, for
 * writes through a map) and every commit raises a meta's transaction id,
 * so a file that still matches was not written since the seal; a copy or a
 * restore is a new ctime too. File times tick coarsely (a few ms), so a
 * write in the tick the seal was taken would keep the recorded ctime: a
 * seal counts only when the file's ctime is older than the seal's own
 * mtime (the sealer waits for the next tick when it must). A seal is written only when no other process
 * has the store open (nobody can write after it is taken) and is removed
 * when a writer opens the store, so a crash while open leaves none.
 */
import { accessSync, constants, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { PageFile } from './lmdb-pages.ts'
import { storeInUse } from './store-users.ts'

const SEAL_FILE = 'data.mdb.seal'
const PAUSE = new Int32Array(new SharedArrayBuffer(4))

interface Seal { v: 1; dev: number; ino: number; size: number; ctimeNs: string; txnids: [number, number] }

function currentSeal(dir: string): Seal {
  const path = join(dir, 'data.mdb')
  const st = statSync(path, { bigint: true })
  const file = new PageFile(path)
  try {
    return {
      v: 1, dev: Number(st.dev), ino: Number(st.ino), size: Number(st.size), ctimeNs: st.ctimeNs.toString(),
      txnids: [file.metas[0].txnid, file.metas[1].txnid],
    }
  } finally {
    file.close()
  }
}

/**
 * Seals the store in `dir` after its environment was closed cleanly; does
 * nothing while another process (or thread of this one) has it open, or
 * when its data file cannot be written (a read-only store is left exactly
 * as found). Never throws: a store without a seal is only walked whole at
 * its next open.
 */
export function sealStore(dir: string): void {
  try {
    accessSync(join(dir, 'data.mdb'), constants.W_OK)
    if (storeInUse(dir)) return
    const seal = currentSeal(dir)
    const tmp = join(dir, `${SEAL_FILE}.${process.pid}.tmp`)
    for (let attempt = 0; attempt < 3; attempt++) {
      writeFileSync(tmp, JSON.stringify(seal), { mode: 0o600 })
      if (statSync(tmp, { bigint: true }).mtimeNs > BigInt(seal.ctimeNs)) break
      if (attempt === 2) return unlinkSync(tmp)
      Atomics.wait(PAUSE, 0, 0, 5 * (attempt + 1))
    }
    renameSync(tmp, join(dir, SEAL_FILE))
  } catch {
    // Best effort by design (see above).
  }
}

/** Closes `env` (the store in `dir`) and seals it when nothing else has it open. */
export async function closeAndSeal(env: { close(): Promise<void> }, dir: string): Promise<void> {
  await env.close()
  sealStore(dir)
}

/** Whether `dir`'s data file is exactly as its last clean close left it. */
export function isSealed(dir: string): boolean {
  let recorded: Seal
  let sealedAt: bigint
  try {
    recorded = JSON.parse(readFileSync(join(dir, SEAL_FILE), 'utf8')) as Seal
    sealedAt = statSync(join(dir, SEAL_FILE), { bigint: true }).mtimeNs
  } catch {
    return false
  }
  try {
    const now = currentSeal(dir)
    return recorded.v === 1 && BigInt(now.ctimeNs) < sealedAt && recorded.dev === now.dev && recorded.ino === now.ino && recorded.size === now.size
      && recorded.ctimeNs === now.ctimeNs && Array.isArray(recorded.txnids)
      && recorded.txnids[0] === now.txnids[0] && recorded.txnids[1] === now.txnids[1]
  } catch {
    return false
  }
}

/** Removes the seal: the store is about to be written. */
export function breakSeal(dir: string): void {
  try {
    unlinkSync(join(dir, SEAL_FILE))
  } catch {
    // None there.
  }
}
