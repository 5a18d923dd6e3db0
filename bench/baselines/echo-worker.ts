/**
 * Worker thread of the message-port baseline: decodes each msgpack envelope
 * arriving on the port it was handed, answers with a `reply` envelope carrying
 * the request body back, and exits when the other end closes the port.
 *
 * Same codec as Cairn (protocol/codec.ts), so the bytes per message and the
 * decode/validate/encode work per hop match what the runtime does.
 */
import { workerData, type MessagePort } from 'node:worker_threads'
import { decode, encode } from '../../protocol/codec.ts'
import { replyOk } from '../../protocol/envelope.ts'

/** Shape of `workerData` the parent must pass (with `port` in the transfer list). */
export interface EchoWorkerData {
  port: MessagePort
}

const { port } = workerData as EchoWorkerData
let nextId = 1

port.on('message', (bytes: Uint8Array) => {
  const req = decode(bytes)
  port.postMessage(encode(replyOk(nextId++, req, req.body)))
})
// The parent closing its end closes ours; with no handle left the thread exits.
port.on('close', () => port.close())
