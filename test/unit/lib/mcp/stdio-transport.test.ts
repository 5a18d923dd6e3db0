/**
 * The session's stdio framing: one JSON-RPC message per line, whatever the
 * chunking; bad lines answered as JSON-RPC says and the session going on;
 * an oversized line skipped with bounded memory; the end of stdin closing.
 */
import t from 'tap'
import { PassThrough } from 'node:stream'
import { LineTransport, MAX_LINE_BYTES } from '../../../../lib/mcp/stdio-transport.ts'

function setup() {
  const input = new PassThrough()
  const output = new PassThrough()
  const tr = new LineTransport(input, output)
  const got: unknown[] = []
  const sent: unknown[] = []
  let closed = 0
  tr.onmessage = (m) => got.push(m)
  tr.onclose = () => { closed++ }
  let buf = ''
  output.setEncoding('utf8').on('data', (s: string) => {
    buf += s
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      sent.push(JSON.parse(buf.slice(0, nl)))
      buf = buf.slice(nl + 1)
    }
  })
  return { input, output, tr, got, sent, closed: () => closed }
}

const tick = () => new Promise((r) => setImmediate(r))
const ping = (id: number) => ({ jsonrpc: '2.0' as const, id, method: 'ping' })

t.test('messages split across chunks, several per chunk, CRLF and blank lines', async (t) => {
  const s = setup()
  await s.tr.start()
  const line = `${JSON.stringify(ping(1))}\r\n\n${JSON.stringify(ping(2))}\n${JSON.stringify(ping(3))}\n`
  for (const piece of [line.slice(0, 5), line.slice(5, 40), line.slice(40)]) s.input.write(piece)
  await tick()
  t.same(s.got, [ping(1), ping(2), ping(3)])
  t.same(s.sent, [], 'nothing answered by the transport itself')
  await s.tr.send({ jsonrpc: '2.0', id: 9, result: {} })
  await tick()
  t.same(s.sent, [{ jsonrpc: '2.0', id: 9, result: {} }], 'one line per message sent')
})

t.test('bad lines are answered and the session goes on', async (t) => {
  const s = setup()
  const errors: string[] = []
  s.tr.onerror = (e) => errors.push(e.message)
  await s.tr.start()
  s.input.write('this is not json\n')
  s.input.write('{"jsonrpc":"2.0","id":7,"method":5}\n')
  s.input.write('[1,2,3]\n')
  s.input.write('{"jsonrpc":"1.0","id":"x","method":"ping"}\n')
  s.input.write(`${JSON.stringify(ping(8))}\n`)
  await tick()
  t.match(s.sent, [
    { jsonrpc: '2.0', id: null, error: { code: -32700, message: /^Parse error/ } },
    { jsonrpc: '2.0', id: 7, error: { code: -32600 } },
    { jsonrpc: '2.0', id: null, error: { code: -32600 } },
    { jsonrpc: '2.0', id: 'x', error: { code: -32600 } },
  ])
  t.equal(s.sent.length, 4)
  t.same(s.got, [ping(8)], 'the good message after them is delivered')
  t.equal(errors.length, 4, 'each reported to onerror')
  t.equal(s.closed(), 0, 'still open')
})

t.test('a line past MAX_LINE_BYTES is skipped up to its newline, with one answer', async (t) => {
  const s = setup()
  await s.tr.start()
  const chunk = Buffer.alloc(1024 * 1024, 0x61)
  for (let i = 0; i < Math.ceil(MAX_LINE_BYTES / chunk.length) + 2; i++) s.input.write(chunk)
  s.input.write(`tail of the long line\n${JSON.stringify(ping(1))}\n`)
  await tick()
  t.match(s.sent, [{ id: null, error: { code: -32600, message: /longer than/ } }])
  t.equal(s.sent.length, 1)
  t.same(s.got, [ping(1)], 'the next line is read normally')
})

t.test('the end of stdin closes the transport once', async (t) => {
  const s = setup()
  await s.tr.start()
  s.input.end()
  await tick()
  t.equal(s.closed(), 1)
  await s.tr.close()
  t.equal(s.closed(), 1, 'close is idempotent')
  await s.tr.send(ping(1))
  t.pass('sending after close is a no-op, not a throw')
})
