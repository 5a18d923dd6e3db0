/**
 * Decodes every value of a store, to find what LMDB cannot: a flipped bit
 * inside a value (LMDB keeps no checksums, so such damage shows only when
 * the value is read). `cairn doctor` runs it; a value that does not decode
 * makes the store STORE_CORRUPT, which `doctor --fix` rebuilds.
 *
 * The file is proved safe to map first (open-store.ts readChecked), then
 * read through a read-only LMDB environment: LMDB readers see one committed
 * snapshot, so this is safe beside a live writer. Values are read as bytes
 * and decoded here, so no database's own key or value encoding is needed.
 */
import { open } from 'lmdb'
import { unpack } from 'msgpackr'
import { OPEN_OPTIONS, readChecked } from './open-store.ts'

const INTEGER_KEYS = 0x08
/** lmdb-js's per-value versions (the write fence): not plain msgpack values. */
const VERSIONED = 0x100

export interface ValueCheck { databases: number; values: number; corrupt: { database: string; entry: number; reason: string }[] }

/**
 * @example const { corrupt } = await verifyStoreValues('/src/app/.git/cairn')
 */
export async function verifyStoreValues(dir: string): Promise<ValueCheck> {
  const facts = readChecked(dir)
  const env = open({ path: dir, readOnly: true, ...OPEN_OPTIONS })
  const out: ValueCheck = { databases: 0, values: 0, corrupt: [] }
  try {
    for (const [name, flags] of facts.dbFlags) {
      if (flags & VERSIONED) continue
      const db = env.openDB({ name, encoding: 'binary', keyEncoding: flags & INTEGER_KEYS ? 'uint32' : 'binary' })
      out.databases++
      let entry = 0
      for (const { value } of db.getRange({})) {
        entry++
        out.values++
        try {
          unpack(value as Uint8Array)
        } catch (err) {
          out.corrupt.push({ database: name, entry, reason: (err instanceof Error ? err.message : String(err)).split(/[{[\n]/)[0]!.trim().slice(0, 120) })
          if (out.corrupt.length >= 100) return out
        }
      }
    }
    return out
  } finally {
    await env.close()
  }
}
