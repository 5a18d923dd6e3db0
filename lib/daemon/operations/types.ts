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
import type { SupervisionApi } from '../../api/supervision.ts'
import { channelsOf } from '../../api/repo-channels.ts'
import type { HoldStore } from '../holds.ts'

export type Args = Record<string, unknown>

export interface OpContext {
  repo(): Promise<Repo>
  signal: AbortSignal
  emit(item: unknown): Promise<void>
  /** What agents hold through this home (claims and leases with their ids), kept between CLI calls. */
  holds: HoldStore
  /** Where the operation runs: a daemon can watch a process (`pid`), a one-shot embedded CLI cannot. */
  mode: 'daemon' | 'embedded'
  /** The runtime's supervision (`runtime.*` operations). */
  runtime: SupervisionApi
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

/** The write options every mutation accepts: `opId` and a fencing `lease` token. */
export function writeOpts(args: { opId?: string | undefined; lease?: number | undefined }): { opId?: string; lease?: number } {
  const opts: { opId?: string; lease?: number } = {}
  if (args.opId !== undefined) opts.opId = args.opId
  if (args.lease !== undefined) opts.lease = args.lease
  return opts
}

/** A remote lease kept as a hold, as the library's write fence takes it (lib/api/issues.ts). */
export interface HeldRemoteFence { scope: 'remote'; resource: string; token: number; valid(): boolean }

/**
 * {@link writeOpts}, where a `lease` token naming one of the caller's remote
 * holds (`lock acquire --remote`) fences as that remote lease: valid until
 * its recorded expiry, on exactly its issue. A token that is no remote hold
 * on this issue is sent as it is (a local lease's fence).
 */
export async function fencedWriteOpts(ctx: OpContext, repo: Repo, args: { id: string; opId?: string | undefined; lease?: number | undefined }):
  Promise<{ opId?: string; lease?: number | HeldRemoteFence }> {
  const opts = writeOpts(args)
  if (opts.lease === undefined) return opts
  // Epochs count per lease chain: token 1 may be held on several issues, so the hold is the one on this issue.
  const prefix = `issue:${args.id.toLowerCase()}`
  const holds = ctx.holds.of(repo.id, repo.actor, repo.path).list().filter((h) => h.remote !== undefined && h.token === opts.lease && h.resource.startsWith(prefix))
  if (holds.length !== 1) return opts
  const hold = holds[0] as (typeof holds)[number]
  const { expiresAt, resource, token } = hold
  return { ...opts, lease: { scope: 'remote', resource, token, valid: () => Date.now() < expiresAt } }
}
