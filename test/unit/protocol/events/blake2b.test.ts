// The WebAssembly BLAKE2b-256 against the pure-JS one it replaces once loaded
// (protocol/events/blake2b.ts): same bytes for every length around the
// 128-byte block size, for large inputs, and a fresh array per call.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { blake2b256, blake2b256Pure, blake2bReady } from '../../../../protocol/events/blake2b.ts'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

t.test('before and after the WebAssembly hasher loads, the digests are the same', async (t) => {
  const abc = new TextEncoder().encode('abc')
  const early = blake2b256(abc)
  await blake2bReady
  // BLAKE2b with a 32-byte digest of "abc" (not a truncated BLAKE2b-512).
  t.equal(hex(blake2b256(abc)), 'bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319')
  t.equal(hex(early), hex(blake2b256(abc)))
})

t.test('every length from 0 to 520 bytes, and 1 MiB', async (t) => {
  await blake2bReady
  let mismatches = 0
  for (let n = 0; n <= 520; n++) {
    const data = randomBytes(n)
    if (hex(blake2b256(data)) !== hex(blake2b256Pure(data))) mismatches++
  }
  t.equal(mismatches, 0, 'no length differs')
  const big = randomBytes(1 << 20)
  t.equal(hex(blake2b256(big)), hex(blake2b256Pure(big)), '1 MiB')
})

t.test('each digest is its own array: a later call does not overwrite it', async (t) => {
  await blake2bReady
  const a = blake2b256(new Uint8Array([1]))
  const saved = hex(a)
  const b = blake2b256(new Uint8Array([2]))
  t.not(a, b)
  t.equal(hex(a), saved)
  t.equal(a.length, 32)
})
