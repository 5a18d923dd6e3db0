/**
 * Child process of the Unix-socket baseline: listens on the socket path given
 * as its last argument, answers every framed msgpack envelope with a `reply`
 * envelope carrying the request body back, and exits when its parent
 * disconnects the IPC channel (or dies).
 *
 * Same framing and codec as the daemon (protocol/framing.ts, protocol/codec.ts),
 * in a process of its own as the daemon is, so each hop pays what a daemon
 * request pays in the kernel and in (de)coding, and nothing else.
 */
import { createServer, type Socket } from 'node:net'
import { decode, encodeFramed } from '../../protocol/codec.ts'
import { replyOk } from '../../protocol/envelope.ts'
import { FrameDecoder } from '../../protocol/framing.ts'

const path = process.argv[process.argv.length - 1] as string
const sockets = new Set<Socket>()
let nextId = 1

const server = createServer((socket) => {
  sockets.add(socket)
  socket.setNoDelay(true)
  const frames = new FrameDecoder()
  socket.on('data', (chunk: Buffer) => {
    let got: Uint8Array[]
    try {
      got = frames.push(chunk)
    } catch {
      socket.destroy()
      return
    }
    for (const bytes of got) {
      const req = decode(bytes)
      socket.write(encodeFramed(replyOk(nextId++, req, req.body)))
    }
  })
  socket.on('error', () => socket.destroy())
  socket.on('close', () => sockets.delete(socket))
})

server.listen(path, () => process.send?.('ready'))
process.on('disconnect', () => {
  for (const s of sockets) s.destroy()
  server.close(() => process.exit(0))
})
