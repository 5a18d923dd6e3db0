/**
 * Where the repository thread's module is, from one place: next to this file,
 * with this file's own extension. Run from the sources (tests, tsx) that is
 * `host.ts`; from the compiled package it is `host.js`, in the bundle's one
 * folder with this code's chunk (scripts/build.mjs). Worker threads load it
 * by URL, so a bundler that moves this file must keep `host` beside it.
 */
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js'

/** URL of the host task module for Piscina's `filename`. */
export const HOST_ENTRY: string = new URL(`./host${ext}`, import.meta.url).href
