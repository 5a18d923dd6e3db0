// One measured start of Cairn, run by bench/package.ts in a fresh process:
// `node [--import tsx] probe.mjs <module> <repo> <home> [threads]`, where
// <module> is 'cairn' (the packed package, from a consumer project) or the
// file URL of lib/index.ts (the sources, through tsx). Plain JavaScript so
// both run the very same probe. Prints one JSON line:
// { importMs, createMs, openMs, servingMs, idleRssMiB, heapMiB, lastSeq }, times in
// ms (servingMs from the process's start: performance.now() counts from it).
const [spec, repoPath, home, threadsArg] = process.argv.slice(2)
const t0 = performance.now()
const { createRuntime } = await import(spec)
const t1 = performance.now()
const runtime = await createRuntime({ home, ...(threadsArg ? { threads: Number(threadsArg) } : {}) })
const t2 = performance.now()
const repo = await runtime.repo(repoPath)
const t3 = performance.now()
// Idle: nothing asked of the runtime for a while, as a daemon between requests.
await new Promise((r) => setTimeout(r, 2000))
const { rss, heapUsed } = process.memoryUsage()
const { lastSeq } = await repo.events.stats()
await runtime.stop()
const mib = (n) => Math.round((n / 2 ** 20) * 10) / 10
console.log(JSON.stringify({ importMs: t1 - t0, createMs: t2 - t1, openMs: t3 - t2, servingMs: t3, idleRssMiB: mib(rss), heapMiB: mib(heapUsed), lastSeq }))
