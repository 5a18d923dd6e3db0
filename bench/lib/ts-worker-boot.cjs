// Entry of every TypeScript worker thread in bench/ (see ts-worker.ts).
// The last argv element is the absolute path of the .ts module to run; it is
// loaded with require() because, on Node 20, tsx transpiles TypeScript for a
// worker's CommonJS require() but not for its ESM import() or entry point.
'use strict'
require(process.argv[process.argv.length - 1])
