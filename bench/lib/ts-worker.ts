/**
 * Starts a worker thread running a TypeScript module.
 *
 * `new Worker(new URL('./x.ts', import.meta.url))` fails on Node 20 with
 * ERR_UNKNOWN_FILE_EXTENSION even when the parent runs under tsx: the worker
 * inherits tsx's flags, but tsx (4.23) only registers its ESM hooks on the main
 * thread before Node 22.22, so a worker can load TypeScript only through
 * tsx's require() hook. The worker therefore starts from a tiny CommonJS
 * bootstrap (ts-worker-boot.cjs) that require()s the module; the module gets
 * `workerData` and `transferList` unchanged. Such a module must not use
 * top-level await or `import.meta`.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads'
import { fileURLToPath } from 'node:url'

/**
 * Spawns `entry` (a file URL of a .ts module) in a new worker thread.
 * @example const w = startTsWorker(new URL('./echo-worker.ts', import.meta.url), { workerData, transferList })
 */
export function startTsWorker(entry: URL, options: Omit<WorkerOptions, 'argv' | 'eval'> = {}): Worker {
  const boot = new URL('./ts-worker-boot.cjs', import.meta.url)
  return new Worker(boot, { ...options, argv: [fileURLToPath(entry)] })
}
