/**
 * What an operation sees: its repository (opened lazily, as the caller's
 * agent), its arguments already checked against the operation's schema
 * (protocol/operations), an abort signal, and for streaming operations an
 * `emit` that resolves when the transport can take the next item
 * (backpressure: a slow reader stops the stream from pulling more, it never
 * grows a buffer).
 */
import type { ArgsOf, Method, OperationSpec } from '../../../protocol/operations/index.ts'
import { decodeValue, EncodedValue, encodeValue } from '../../../protocol/codec.ts'
import type { Repo } from '../../api/repo.ts'
import { channelsOf } from '../../api/repo-channels.ts'

export type Args = Record<string, unknown>

export interface OpContext {
  repo(): Promise<Repo>
  signal: AbortSignal
  emit(item: unknown): Promise<void>
  /** Leases granted through this runtime, so renew/release reuse their handles. */
  leases: LeaseBook
}

/** A method as the daemon and the embedded CLI run it: raw arguments in, checked against `spec.args`, then served. */
export interface Operation {
  readonly spec: OperationSpec
  /** Resolves to the answer: plain data, or an {@link EncodedValue} (reads) that {@link plainAnswer} decodes. */
  run(ctx: OpContext, args: unknown): Promise<unknown>
}

/** How one method is served, given its checked arguments. */
export type Impl<M extends Method> = (ctx: OpContext, args: ArgsOf<M>) => Promise<unknown>
export type Impls<K extends Method> = { [M in K]: Impl<M> }

/**
 * A read, answered encoded: the daemon sends the bytes as they are, an
 * in-process caller decodes them ({@link plainAnswer}). The query checks
 * what depends on the store (NOT_FOUND, AMBIGUOUS_ID).
 */
export async function readEncoded(ctx: OpContext, type: string, body: Record<string, unknown>): Promise<EncodedValue> {
  return channelsOf(await ctx.repo()).reads.encoded(type, body)
}

/**
 * An operation's answer as plain data, exactly as a daemon client decodes
 * it (through msgpack), whichever form it came in: what in-process callers
 * of the table (the embedded CLI) hand on, so both modes print the same.
 */
export function plainAnswer(answer: unknown): unknown {
  return decodeValue(answer instanceof EncodedValue ? answer.bytes : encodeValue(answer))
}

/** A lease handle kept between a CLI's acquire and its later renew/release. */
export interface LeaseBook {
  get(resource: string, token: number): LeaseHandleLike | undefined
  put(handle: LeaseHandleLike): void
  delete(resource: string, token: number): void
  size(): number
}

export interface LeaseHandleLike {
  readonly resource: string
  readonly token: number
  readonly expiresAt: number
  renew(ttlMs?: number): Promise<void>
  release(): Promise<void>
  /** Lets go of the runtime without releasing the lease (it lapses on its TTL). */
  dispose(): void
}

/** A bounded LeaseBook: expired entries go first, then the oldest. */
export function leaseBook(now: () => number, capacity = 4096): LeaseBook {
  const map = new Map<string, LeaseHandleLike>()
  const key = (resource: string, token: number): string => `${token}\0${resource}`
  const evict = (k: string, h: LeaseHandleLike): void => {
    map.delete(k)
    h.dispose()
  }
  return {
    get: (resource, token) => map.get(key(resource, token)),
    put: (handle) => {
      // Expired handles go on every put, so a long-running daemon holds only live leases.
      const t = now()
      for (const [k, h] of map) if (h.expiresAt < t) evict(k, h)
      while (map.size >= capacity) {
        const k = map.keys().next().value as string
        evict(k, map.get(k)!)
      }
      map.set(key(handle.resource, handle.token), handle)
    },
    delete: (resource, token) => {
      const k = key(resource, token)
      const h = map.get(k)
      if (h) evict(k, h)
    },
    size: () => map.size,
  }
}

/** The write options every mutation accepts: `opId` and a fencing `lease` token. */
export function writeOpts(args: { opId?: string | undefined; lease?: number | undefined }): { opId?: string; lease?: number } {
  const opts: { opId?: string; lease?: number } = {}
  if (args.opId !== undefined) opts.opId = args.opId
  if (args.lease !== undefined) opts.lease = args.lease
  return opts
}
