/** Helpers for users' tests: a clock that moves only when told to. */
export { ManualClock } from '../adapters/manual-clock.ts'
