// One measured start of Cairn, run by bench/package.ts in a fresh process:
// `node [--import tsx] probe.mjs <module> <repo> <home> [threads] [settleMs]`, where
// <module> is 'cairn' (the packed package, from a consumer project) or the
// file URL of lib/index.ts (the sources, through tsx). Plain JavaScript so
// both run the very same probe. Prints one JSON line:
// { importMs, createMs, openMs, servingMs, idleRssMiB, heapMiB, lastSeq,
// settledRssMiB }, times in ms (servingMs from the process's start:
// performance.now() counts from it). idleRssMiB is taken 2 s after the open;
// with settleMs, settledRssMiB is taken that long after the open: V8 gives
// back the young generation a start-up grew only after ~8 s without much
// allocation (its memory reducer), so a runtime idle for longer sits lower.
const [spec, repoPath, home, threadsArg, settleArg] = process.argv.slice(2)
const t0 = performance.now()
const { createRuntime } = await import(spec)
const t1 = performance.now()
const runtime = await createRuntime({ home, ...(threadsArg ? { threads: Number(threadsArg) } : {}) })
const t2 = performance.now()
const repo = await runtime.repo(repoPath)
const t3 = performance.now()
// Idle: nothing asked of the runtime for a while, as a daemon between requests.
await new Promise((r) => setTimeout(r, 2000))
const mib = (n) => Math.round((n / 2 ** 20) * 10) / 10
const { rss, heapUsed } = process.memoryUsage()
const settleMs = Number(settleArg ?? 0)
let settledRssMiB = null
if (settleMs > 2000) {
  await new Promise((r) => setTimeout(r, settleMs - 2000))
  settledRssMiB = mib(process.memoryUsage().rss)
}
const { lastSeq } = await repo.events.stats()
await runtime.stop()
console.log(JSON.stringify({ importMs: t1 - t0, createMs: t2 - t1, openMs: t3 - t2, servingMs: t3, idleRssMiB: mib(rss), heapMiB: mib(heapUsed), lastSeq, settledRssMiB }))
