/**
 * What an operation sees: its repository (opened lazily, as the caller's
 * agent), an abort signal, and for streaming operations an `emit` that
 * resolves when the transport can take the next item (backpressure: a slow
 * reader stops the stream from pulling more, it never grows a buffer).
 */
import { invalidArgument } from '../../../protocol/errors.ts'
import type { Repo } from '../../api/repo.ts'

export type Args = Record<string, unknown>

export interface OpContext {
  repo(): Promise<Repo>
  signal: AbortSignal
  emit(item: unknown): Promise<void>
  /** Leases granted through this runtime, so renew/release reuse their handles. */
  leases: LeaseBook
}

export interface Operation {
  run(ctx: OpContext, args: Args): Promise<unknown>
  /** Sends stream items before its reply. */
  stream?: boolean
  /** Needs no repository (the request's `repo` is ignored). */
  global?: boolean
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

/** Optional string argument. */
export function optString(args: Args, field: string): string | undefined {
  const v = args[field]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string') throw invalidArgument(field, 'must be a string')
  return v
}

/** Optional non-negative integer argument. */
export function optInt(args: Args, field: string, min = 0): number | undefined {
  const v = args[field]
  if (v === undefined || v === null) return undefined
  if (!Number.isSafeInteger(v) || (v as number) < min) throw invalidArgument(field, `must be an integer ≥ ${min}`)
  return v as number
}

export function reqInt(args: Args, field: string, min = 0): number {
  const v = optInt(args, field, min)
  if (v === undefined) throw invalidArgument(field, 'is required')
  return v
}

/** Optional list of strings. */
export function optStrings(args: Args, field: string): string[] | undefined {
  const v = args[field]
  if (v === undefined || v === null) return undefined
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw invalidArgument(field, 'must be a list of strings')
  return v as string[]
}

/** The write options every mutation accepts: `opId` and a fencing `lease` token. */
export function writeOpts(args: Args): { opId?: string; lease?: number } {
  const opts: { opId?: string; lease?: number } = {}
  const opId = optString(args, 'opId')
  if (opId !== undefined) opts.opId = opId
  const lease = optInt(args, 'lease', 1)
  if (lease !== undefined) opts.lease = lease
  return opts
}
