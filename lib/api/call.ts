/**
 * The request shape every API call shares: options every request takes, and
 * the function a facade sends its requests through.
 */
import { invalidArgument } from '../../protocol/errors.ts'
import type { RequestOptions } from '../../actors/supervisor/router.ts'

export type CallOptions = RequestOptions

/** Refuses malformed call options with the option named. */
export function checkOpts(opts: CallOptions | undefined): void {
  if (opts === undefined) return
  if (typeof opts !== 'object' || opts === null) throw invalidArgument('options', 'must be an object')
  if (opts.timeoutMs !== undefined && (!Number.isSafeInteger(opts.timeoutMs) || opts.timeoutMs < 1)) throw invalidArgument('timeoutMs', 'must be a positive integer')
  if (opts.signal !== undefined && !(opts.signal instanceof AbortSignal)) throw invalidArgument('signal', 'must be an AbortSignal')
}

export type Call = <T>(type: string, body: unknown, opts?: CallOptions) => Promise<T>
