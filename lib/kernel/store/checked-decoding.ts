/**
 * Makes a value that does not decode a coded `STORE_CORRUPT` instead of the
 * decoder's own error ("Data read, but end of buffer not reached {...}",
 * which also echoes the bytes it read).
 *
 * LMDB keeps no checksums: a flipped bit inside a value is found only when
 * the value is decoded. Every database of a store opened through
 * open-store.ts decodes through a wrapper of its msgpack decoder, so the
 * first read of a damaged value fails that one request with a code that
 * says what to do (`cairn doctor --fix`), and nothing crashes.
 */
import type { RootDatabase } from 'lmdb'
import { CairnError } from '../../../protocol/errors.ts'

type Decoder = { decode(bytes: Uint8Array, options?: unknown): unknown }

function storeCorrupt(dir: string, name: string, err: unknown): CairnError {
  // The decoder's message may quote the damaged bytes: keep its first clause only.
  const why = (err instanceof Error ? err.message : String(err)).split(/[{[\n]/)[0]!.trim().slice(0, 120)
  return new CairnError('STORE_CORRUPT', `a value in the ${name} database of ${dir} does not decode (${why}); run \`cairn doctor --fix\``,
    { dir, database: name })
}

/** Wraps `db`'s decoder (in place) so decode failures throw STORE_CORRUPT. */
function checkDecoder(db: { decoder?: Decoder }, dir: string, name: string): void {
  const inner = db.decoder
  if (!inner || typeof inner.decode !== 'function' || (inner as { checked?: boolean }).checked) return
  const checked = Object.create(inner) as Decoder & { checked: boolean }
  checked.checked = true
  checked.decode = (bytes, options) => {
    try {
      return inner.decode(bytes, options)
    } catch (err) {
      throw storeCorrupt(dir, name, err)
    }
  }
  db.decoder = checked
}

/**
 * Checks decoding of `env` itself and of every database opened from it from
 * now on.
 *
 * @example const env = withCheckedDecoding(open({ path }), path)
 */
export function withCheckedDecoding(env: RootDatabase, dir: string): RootDatabase {
  checkDecoder(env as unknown as { decoder?: Decoder }, dir, 'main')
  const openDB = env.openDB.bind(env) as (...args: unknown[]) => unknown
  ;(env as unknown as { openDB: (...args: unknown[]) => unknown }).openDB = (...args: unknown[]) => {
    const db = openDB(...args)
    const first = args[0]
    const name = typeof first === 'string' ? first : (first as { name?: string } | undefined)?.name ?? 'main'
    checkDecoder(db as { decoder?: Decoder }, dir, name)
    return db
  }
  return env
}
