/**
 * FramePort on a real MessageChannel: frames posted in one turn arrive as
 * one message in order, a lone frame arrives as itself, close() sends what
 * is queued first; framesIn accepts only a frame or a non-empty array of them.
 */
import t from 'tap'
import { MessageChannel, type MessagePort } from 'node:worker_threads'
import { FramePort, framesIn } from '../../../../lib/kernel/frame-port.ts'
import { eventually } from '../../../helpers/eventually.ts'

const bytes = (...xs: number[]): Uint8Array => Uint8Array.from(xs)

function collect(port: MessagePort): unknown[] {
  const got: unknown[] = []
  port.on('message', (m) => got.push(m))
  return got
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))
const until = (check: () => boolean): Promise<void> => eventually(check, 5_000, 5)

t.test('frames of one turn leave as one array, in order; the next turn is a new message', async (t) => {
  const { port1, port2 } = new MessageChannel()
  t.teardown(() => { port1.close(); port2.close() })
  const got = collect(port2)
  const out = new FramePort(port1)
  out.post(bytes(1))
  out.post(bytes(2, 2))
  out.post(bytes(3))
  await turn()
  out.post(bytes(4))
  await until(() => got.length >= 2)
  t.equal(got.length, 2, 'two turns, two messages')
  t.strictSame(framesIn(got[0])?.map((f) => [...f]), [[1], [2, 2], [3]], 'the first turn\'s frames, in order')
  t.ok(got[1] instanceof Uint8Array, 'a turn with one frame sends the frame itself')
  t.strictSame([...(got[1] as Uint8Array)], [4])
})

t.test('close() sends what is queued, then closes; later posts are dropped', async (t) => {
  const { port1, port2 } = new MessageChannel()
  t.teardown(() => port2.close())
  const got = collect(port2)
  const out = new FramePort(port1)
  out.post(bytes(7))
  out.post(bytes(8))
  out.close()
  out.post(bytes(9))
  out.flush()
  await until(() => got.length >= 1)
  await turn()
  t.strictSame(got.map((m) => framesIn(m)?.map((f) => [...f])), [[[7], [8]]], 'the queued frames went out before the close, nothing after')
})

t.test('framesIn accepts a frame or a non-empty array of frames, nothing else', async (t) => {
  t.strictSame(framesIn(bytes(1)), [bytes(1)])
  t.strictSame(framesIn([bytes(1), bytes(2)]), [bytes(1), bytes(2)])
  for (const bad of [null, undefined, 'x', 42, {}, [], [bytes(1), 'x'], [[bytes(1)]], new ArrayBuffer(4), [null]]) {
    t.equal(framesIn(bad), null, `refused: ${Object.prototype.toString.call(bad)} ${JSON.stringify(bad)}`)
  }
})

t.test('without coalescing each frame is its own message, sent at once', async (t) => {
  const { port1, port2 } = new MessageChannel()
  t.teardown(() => { port1.close(); port2.close() })
  const got = collect(port2)
  const out = new FramePort(port1, { coalesce: false })
  out.post(bytes(1))
  out.post(bytes(2))
  out.flush()
  await until(() => got.length >= 2)
  t.strictSame(got.map((m) => [...(m as Uint8Array)]), [[1], [2]], 'two frames, two messages, in order')
})
