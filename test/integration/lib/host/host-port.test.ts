/**
 * The host thread's port, as the Supervisor uses it but driven by hand: a
 * port message is a frame or an array of frames. Anything else, or a frame
 * that does not decode, is reported (`host.failed` with `frame: true`) and
 * the host keeps serving; an array's frames are handled in order.
 */
import t from 'tap'
import { join } from 'node:path'
import { MessageChannel } from 'node:worker_threads'
import { Piscina } from 'piscina'
import { decode, encode } from '../../../../protocol/codec.ts'
import { envelope, type Envelope } from '../../../../protocol/envelope.ts'
import { hostAddress, MESSAGE_TYPES as M, SUPERVISOR } from '../../../../protocol/messages.ts'
import { SystemClock } from '../../../../lib/adapters/system-clock.ts'
import { framesIn } from '../../../../lib/kernel/frame-port.ts'
import type { HostTask } from '../../../../lib/host/host.ts'
import { sandbox } from '../../../helpers/tmp-repos.ts'

t.test('bad port messages are reported, the host keeps serving, batched frames run in order', async (t) => {
  const box = sandbox()
  const repo = box.repo('host')
  const pool = new Piscina({ filename: new URL('../../../../lib/host/host.ts', import.meta.url).href, minThreads: 1, maxThreads: 1, atomics: 'disabled' })
  t.teardown(async () => { await pool.destroy(); box.cleanup() })
  const { port1, port2 } = new MessageChannel()
  const got: Envelope[] = []
  port1.on('message', (data: unknown) => { for (const f of framesIn(data) ?? []) got.push(decode(f)) })
  const task: HostTask = { port: port2, repoId: 'r1', storeDir: join(repo, '.git', 'cairn'), clock: new SystemClock().describe(), mailboxCapacity: 64, faultInjection: false }
  const ended = pool.run(task, { transferList: [port2] as never })
  const waitFor = async (pred: (e: Envelope) => boolean): Promise<Envelope> => {
    for (let i = 0; i < 1000; i++) {
      const hit = got.find(pred)
      if (hit) return hit
      await new Promise((r) => setTimeout(r, 10))
    }
    throw new Error('no such message within 10 s')
  }
  await waitFor((e) => e.type === M.hostReady)

  const self = hostAddress('r1')
  const ping = (id: number): Uint8Array => encode(envelope(id, M.ping, SUPERVISOR, self, {}))
  for (const bad of ['text', 42, [], [ping(90), 'x'], [[ping(91)]], Uint8Array.of(0xc1)]) port1.postMessage(bad)
  port1.postMessage([ping(1), ping(2), ping(3)])
  await waitFor((e) => e.corr === 3)
  const failures = got.filter((e) => e.type === M.hostFailed)
  t.equal(failures.length, 6, 'each bad message is reported once')
  t.ok(failures.every((e) => (e.body as { frame?: boolean }).frame === true), 'as a bad frame')
  t.notOk(got.some((e) => e.corr === 90 || e.corr === 91), 'a frame inside a refused message is not run')
  t.strictSame(got.filter((e) => e.type === 'reply').map((e) => e.corr), [1, 2, 3], 'the batch\'s pings are answered, in order')

  port1.postMessage(encode(envelope(4, M.hostStop, SUPERVISOR, self, {})))
  await waitFor((e) => e.corr === 4)
  await ended
  port1.close()
})
