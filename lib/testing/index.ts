/**
 * `cairn/testing`: helpers for tests, kept out of the public surface (no
 * production module imports this folder): a clock that moves only when told
 * to, and test hooks on a repository handle (the journaled record log,
 * durable timers, fault injection).
 */
export { ManualClock } from '../adapters/manual-clock.ts'
export { repoHooks, type RepoHooks } from './repo-hooks.ts'
