/**
 * `doctor --fix` on a damaged repository store (STORE_CORRUPT): rebuilds it
 * from the git WAL and what the damaged file still holds
 * (actors/repo-worker/store/repair.ts), in this process, once no other
 * process has the store open.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { CairnError } from '../../../protocol/errors.ts'
import { verifyStoreValues } from '../../kernel/store/verify-values.ts'
import { measureStoreSpace, mib } from '../../kernel/store/compact.ts'
import { gitCommonDir, repoStoreDir } from '../../kernel/store/common-dir.ts'
import { storeLockHolders } from '../../kernel/store/store-users.ts'
import { nodegitOpeners } from '../../adapters/git/loader.ts'
import { repairStore, type RepairReport } from '../../../actors/repo-worker/store/repair.ts'
import type { DoctorCheck } from '../../daemon/operations/index.ts'

/** One line a person can act on. */
function summary(r: RepairReport): string {
  const parts = [
    `rebuilt from git: ${r.fromGit.events} events on ${r.fromGit.refs} WAL refs`,
    r.outbox.readable
      ? `outbox: ${r.outbox.restored} undrained events restored, ${r.outbox.inGit} already in git, ${r.outbox.unrecoverable.length} not recoverable${r.outbox.unrecoverable.length > 0 ? ` (${r.outbox.unrecoverable.join(', ')})` : ''}${r.outbox.damagedPages > 0 ? `, ${r.outbox.damagedPages} outbox pages unreadable (events on them are not known)` : ''}`
      : 'outbox: unreadable (events acknowledged in the last drain pace, if any, are not known)',
    `damaged files moved to ${r.movedTo}`,
  ]
  if (r.copied.identities === undefined) parts.push('agent identities unreadable: each agent gets a new actor id (its earlier events stay on its old WAL ref)')
  if (r.fromGit.unreadable.length > 0) parts.push(`unreadable WAL refs: ${r.fromGit.unreadable.map((u) => u.ref).join(', ')}`)
  const lost = Object.entries(r.damaged).map(([db, n]) => `${db} (${n})`)
  if (lost.length > 0) parts.push(`entries lost to damaged pages: ${lost.join(', ')}`)
  return parts.join('; ')
}

/**
 * Rebuilds the store of the repository at `repoPath`.
 * @example const check = await repairRepoStore('/src/app')
 */
export async function repairRepoStore(repoPath: string): Promise<DoctorCheck & { report?: RepairReport }> {
  const { commonDir } = gitCommonDir(repoPath)
  const storeDir = join(commonDir, 'cairn')
  const holders = [...storeLockHolders(storeDir)].filter((pid) => pid !== process.pid)
  if (holders.length > 0) {
    return { name: 'store-rebuild', ok: false, fixed: false, detail: `the damaged store is open in pid ${holders.join(', ')}: stop it (\`cairn daemon stop\`) and run \`cairn doctor --fix\` again` }
  }
  const git = await nodegitOpeners().openSync(commonDir)
  try {
    const report = await repairStore(storeDir, git)
    return { name: 'store-rebuild', ok: false, fixed: true, detail: summary(report), report }
  } finally {
    await git.close()
  }
}

/**
 * Decodes every value of the repository's store (verify-values.ts): damage
 * inside a value is found only that way. Null outside a repository or
 * before its store exists.
 */
export async function valuesCheck(repoPath: string): Promise<DoctorCheck | null> {
  return storeDirCheck(repoPath, 'store-values', async (storeDir) => {
    const r = await verifyStoreValues(storeDir)
    if (r.corrupt.length === 0) return { name: 'store-values', ok: true, detail: `${r.values} values in ${r.databases} databases decode` }
    const first = r.corrupt[0]!
    return { name: 'store-values', ok: false, code: 'STORE_CORRUPT',
      detail: `${r.corrupt.length}${r.corrupt.length >= 100 ? '+' : ''} values do not decode (first: ${first.database} entry ${first.entry}: ${first.reason})` }
  })
}

/** A check of the repository's store file: null outside a repository or before its store exists; its failure is the check's. */
async function storeDirCheck(repoPath: string, name: string, check: (storeDir: string) => Promise<DoctorCheck>): Promise<DoctorCheck | null> {
  let storeDir: string
  try {
    storeDir = repoStoreDir(repoPath)
  } catch {
    return null
  }
  if (!existsSync(join(storeDir, 'data.mdb'))) return null
  try {
    return await check(storeDir)
  } catch (err) {
    const e = CairnError.from(err)
    return { name, ok: false, code: e.code, detail: `${e.code}: ${e.message}` }
  }
}

/** Free pages worth giving back: a quarter of the file and at least this much. */
const WORTH_COMPACTING_BYTES = 16 * 2 ** 20

/**
 * How much of the store file is free pages (informational: a store full of
 * free pages is healthy, only bigger than it needs to be). Null outside a
 * repository or before its store exists.
 */
export async function spaceCheck(repoPath: string): Promise<DoctorCheck | null> {
  return storeDirCheck(repoPath, 'store-space', async (storeDir) => {
    const s = await measureStoreSpace(storeDir)
    const worth = s.freeBytes >= WORTH_COMPACTING_BYTES && s.freeBytes * 4 >= s.fileBytes
    return { name: 'store-space', ok: true,
      detail: `${mib(s.fileBytes)} on disk, ${mib(s.freeBytes)} of it free pages${worth ? ' (`cairn compact`, with no daemon running, gives them back)' : ''}` }
  })
}
