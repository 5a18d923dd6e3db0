/**
 * Worker thread of the raw open baseline (open.ts): opens a repository's
 * store as Cairn does, reads what proves the projections current (the
 * checkpoint and the log's last key), posts them and exits. That is the
 * least any runtime must do before serving a repository from a thread.
 *
 * Loaded through bench/lib/ts-worker.ts: no top-level await, no import.meta.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { open } from 'lmdb'

/** Shape of `workerData` the parent must pass. */
export interface OpenWorkerData {
  storeDir: string
}

/** What the worker posts once the store is read. */
export interface OpenWorkerReply {
  checkpoint: unknown
  lastSeq: number
}

const { storeDir } = workerData as OpenWorkerData
const env = open({ path: storeDir, maxDbs: 32, compression: false, cache: false, overlappingSync: false })
const checkpoint: unknown = env.openDB({ name: 'event-meta' }).get('projection')
let lastSeq = 0
for (const key of env.openDB({ name: 'event-log', keyEncoding: 'uint32' }).getKeys({ reverse: true, limit: 1 })) lastSeq = key as number
parentPort?.postMessage({ checkpoint, lastSeq } satisfies OpenWorkerReply)
// With the env closed nothing holds the thread, so it exits by itself.
void env.close()
