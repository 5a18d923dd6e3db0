/**
 * The daemon's socket protocol, on top of the shared envelope and framing
 * (documented for other languages in docs/protocol.md).
 *
 * Wire contract (socket protocol {@link SOCKET_PROTOCOL}; envelopes carry
 * `v` {@link PROTOCOL_VERSION}):
 * - A connection is a stream of frames: u32 big-endian length + one msgpack
 *   envelope, at most MAX_FRAME_BYTES.
 * - The client speaks first, with `hello` `{ protocol, client? }`; the daemon
 *   answers with a reply `{ protocol, pid, startedAt, home }`, or with an
 *   `error` frame (SCHEMA_MISMATCH, details `{ protocol, supported }`) and
 *   closes. Nothing else is served before a hello.
 * - A reply's body is `{ ok: true, data }` or `{ ok: false, error }`, the
 *   envelope the CLI prints with --json. A client that says protocol 1 gets
 *   `{ ok: true, value }` instead (what daemons before protocol 2 sent).
 * - Then requests: `type` is a method (`issues.show`, ...), `id` the client's
 *   correlation key, `body` a {@link RequestBody}. Every well-formed request
 *   gets exactly one `reply` with `corr` = its `id`; requests pipeline and
 *   replies come back in completion order, not request order.
 * - A streaming method (`events.follow`, `sync`) sends any number of
 *   `stream.item` frames (`corr` = request id) before its reply, which is the
 *   end frame of the stream. `stream.cancel` `{ corr }` ends a stream early.
 * - A reply too large for one frame goes, to a client whose hello said
 *   `parts: true`, as `reply.part` frames (`corr` = request id, body
 *   `{ bytes, last }`): the bytes of the reply envelope cut in pieces of at
 *   most 4 MiB, to be joined and decoded as one reply when `last` is true.
 *   Any other client gets an error reply for it.
 * - A frame that cannot be answered (oversized, truncated, not msgpack, not an
 *   envelope, another protocol version) gets one `error` frame (no `corr`,
 *   body a WireError) and the connection is closed; the daemon and its other
 *   connections carry on. Past the connection limit the daemon answers a new
 *   connection with an `error` frame BUSY and closes it.
 */
import { PROTOCOL_VERSION, type Envelope } from '../../protocol/envelope.ts'
import type { WireError } from '../../protocol/errors.ts'

export { PROTOCOL_VERSION }

/** The socket protocol this side speaks; the hello names it. */
export const SOCKET_PROTOCOL = 2
/** The socket protocols a daemon serves: 1 differs only in its replies' `value` (for `data`). */
export const SOCKET_PROTOCOLS: readonly number[] = [1, 2]

export const HELLO = 'hello'
export const STREAM_ITEM = 'stream.item'
export const STREAM_CANCEL = 'stream.cancel'
/** A piece of a reply too large for one frame (see the contract above). */
export const REPLY_PART = 'reply.part'
/** Largest reply sent in parts, in bytes of its envelope: past it the reply is an error. */
export const MAX_REPLY_BYTES = 256 * 1024 * 1024
/** Bytes of a reply envelope per `reply.part` frame. */
export const REPLY_PART_BYTES = 4 * 1024 * 1024
/** A connection-level failure; the sender closes the connection after it. */
export const ERROR_FRAME = 'error'
export const DAEMON_ADDRESS = 'daemon'

export interface HelloBody { protocol: number; client?: string; /** The client joins `reply.part` frames. */ parts?: boolean }
export interface HelloReply { protocol: number; pid: number; startedAt: number; home: string }

/**
 * Body of a request. `repo` is a path inside the repository (the CLI sends
 * its working directory), `agent` the agent name whose actor id writes;
 * daemon-level methods (`daemon.status`, `daemon.stop`, `ping`) ignore both.
 */
export interface RequestBody { repo?: string; agent?: string; args?: Record<string, unknown> }

/** Builds a connection-level error frame. */
export function errorFrame(error: WireError): Envelope<typeof ERROR_FRAME, WireError> {
  return { v: PROTOCOL_VERSION, id: 0, type: ERROR_FRAME, from: DAEMON_ADDRESS, to: '', body: error }
}
