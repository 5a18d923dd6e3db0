/**
 * BLAKE2b-256, the hash of event ids and WAL chunk names.
 *
 * Every event is hashed when it is written and again when the WAL drain
 * encodes it (encodeChunk re-derives each id), and every fetched event once
 * more on decode: at thousands of events per second the pure-JS BLAKE2b
 * (@noble/hashes, ~5.4 µs for a 200-byte preimage here) was a tenth of the
 * RepoWorker's thread. hash-wasm's WebAssembly BLAKE2b gives the same bytes
 * in ~0.7 µs. Its instance is compiled asynchronously, so until it is ready
 * (the first milliseconds of a thread) the pure-JS one answers; both are
 * checked against each other and against grite's vectors in the tests.
 *
 * @noble/hashes is pinned to 1.8, which ships CommonJS next to ESM: worker
 * threads load Cairn through tsx's require hook, and 2.x (ESM only) gets
 * transpiled there into getter-wrapped exports that made each id ~8x slower
 * (89 µs vs 11 µs per event id in a worker, measured). hash-wasm ships both.
 *
 * hash-wasm's BLAKE2b is loaded from its own build (`dist/blake2b.umd.min.js`,
 * 16 kB): the package's index carries every algorithm's WebAssembly as
 * base64 (270 kB) and cost every thread that loads it 2.5 MiB more RSS
 * (measured, 4 worker threads). The UMD file is CommonJS without
 * `__esModule`, so its exports arrive as the default import on both sides of
 * the thread boundary (Node's ESM loader, tsx's require hook).
 */
import { blake2b as pureBlake2b } from '@noble/hashes/blake2.js'
import type { createBLAKE2b as CreateBLAKE2b, IHasher } from 'hash-wasm'
// @ts-expect-error TS7016: the per-algorithm build has no declarations; typed from the package's own below.
import blake2bBuild from 'hash-wasm/dist/blake2b.umd.min.js'

const createBLAKE2b = (blake2bBuild as { createBLAKE2b: typeof CreateBLAKE2b }).createBLAKE2b

let wasm: IHasher | null = null

/** Settles once the WebAssembly hasher is in use (or failed to load, leaving the pure-JS one). */
export const blake2bReady: Promise<void> = createBLAKE2b(256).then((h) => { wasm = h }, () => undefined)

/** BLAKE2b with a 32-byte digest (not a truncated BLAKE2b-512: the length is a parameter of the hash). */
export function blake2b256(data: Uint8Array): Uint8Array {
  if (wasm === null) return pureBlake2b(data, { dkLen: 32 })
  // One hasher per thread, used synchronously from init to digest: nothing can interleave.
  wasm.init()
  wasm.update(data)
  return wasm.digest('binary')
}

/** The pure-JS implementation, for tests comparing the two. */
export function blake2b256Pure(data: Uint8Array): Uint8Array {
  return pureBlake2b(data, { dkLen: 32 })
}
