/**
 * "The secret appears nowhere": searches every file under some directories
 * (LMDB stores, runtime homes, git dirs) and some strings (CLI output,
 * statuses, errors) for a secret in each form it could travel in: as is,
 * percent-encoded (in a URL), and inside an HTTP basic-auth header
 * (base64 of `user:secret`).
 */
import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs'
import { join } from 'node:path'

const CHUNK = 1 << 20

/** The byte patterns `secret` may take. */
export function secretForms(secret: string, user?: string): string[] {
  const forms = new Set([secret, encodeURIComponent(secret)])
  if (user !== undefined) forms.add(Buffer.from(`${user}:${secret}`).toString('base64'))
  return [...forms]
}

/** Files under `dir` (recursively) that contain any of `forms`; streams, so large (sparse) store files are fine. */
export function filesContaining(dir: string, forms: string[]): string[] {
  const needles = forms.map((f) => Buffer.from(f, 'utf8'))
  const overlap = Math.max(...needles.map((n) => n.length)) - 1
  const hits: string[] = []
  const walk = (d: string): void => {
    let names: string[]
    try { names = readdirSync(d) } catch { return }
    for (const name of names) {
      const p = join(d, name)
      let st
      try { st = statSync(p) } catch { continue }
      if (st.isDirectory()) walk(p)
      else if (st.isFile() && contains(p, needles, overlap)) hits.push(p)
    }
  }
  walk(dir)
  return hits
}

function contains(path: string, needles: Buffer[], overlap: number): boolean {
  let fd: number
  try { fd = openSync(path, 'r') } catch { return false }
  try {
    const buf = Buffer.alloc(CHUNK + overlap)
    let carry = 0
    let pos = 0
    for (;;) {
      const n = readSync(fd, buf, carry, CHUNK, pos)
      if (n <= 0) return false
      const view = buf.subarray(0, carry + n)
      if (needles.some((needle) => view.includes(needle))) return true
      pos += n
      carry = Math.min(overlap, view.length)
      view.copy(buf, 0, view.length - carry)
    }
  } finally {
    closeSync(fd)
  }
}

/** The forms of the secret found in `text` (empty when clean). */
export function formsIn(text: string, forms: string[]): string[] {
  return forms.filter((f) => text.includes(f))
}
