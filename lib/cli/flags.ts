/**
 * The CLI's flags for operation arguments, with the ranges and choices the
 * operations' argument schemas (protocol/operations) have: both are built
 * from the same constants (protocol/limits.ts, protocol/operations/choices.ts),
 * and test/unit/lib/cli/flags.test.ts checks each flag against its schema.
 * Built without zod: a one-shot command must not pay for loading it.
 *
 * @example cmd.option('--ttl <ms>', 'time to live in ms', FLAGS.ttlMs)
 */
import { MAX_PAGE, MAX_TTL_MS, MAX_WATCH_BUFFER } from '../../protocol/limits.ts'
import { DEP_TYPES, ISSUE_STATES } from '../../protocol/operations/choices.ts'
import { choiceFlag, intFlag } from './context.ts'

export const FLAGS = {
  /** `ttlMs` of claims and leases. */
  ttlMs: intFlag(1, MAX_TTL_MS),
  /** `waitMs` of locks.acquire. */
  waitMs: intFlag(0),
  /** `pid` of a claim or lease the daemon keeps while that process lives. */
  pid: intFlag(1),
  /** A fencing `token` (and a write's `lease`). */
  token: intFlag(1),
  /** `fromSeq` of the log. */
  fromSeq: intFlag(1),
  /** `limit` of one page of the log. */
  pageLimit: intFlag(1, MAX_PAGE),
  /** `limit` of a page of issues.list and issues.ready. */
  listLimit: intFlag(1),
  /** `thread` of runtime.move. */
  thread: intFlag(0),
  /** `limit` of runtime.watch. */
  watchLimit: intFlag(1),
  /** `buffer` of runtime.watch. */
  watchBuffer: intFlag(1, MAX_WATCH_BUFFER),
  /** `state` of issues.list. */
  state: choiceFlag(ISSUE_STATES),
  /** `type` of issues.depend. */
  depType: choiceFlag(DEP_TYPES),
} as const

export { DEP_TYPES, ISSUE_STATES }
