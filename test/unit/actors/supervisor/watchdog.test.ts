/**
 * The watchdog's judgement of one probe: a thread that answers (or refuses)
 * is alive, one that stays silent for the timeout is not, and a main thread
 * that was itself blocked past the deadline does not blame the thread for it.
 */
import t from 'tap'
import { Worker } from 'node:worker_threads'
import { heard } from '../../../../actors/supervisor/watchdog.ts'

// The watchdog's timers are unref'd (it must never hold a process open): this keeps the test's alive.
const keepAlive = setInterval(() => {}, 1000)
t.teardown(() => clearInterval(keepAlive))

function busyWait(ms: number): void {
  const end = Date.now() + ms
  while (Date.now() < end) { /* the main thread is stuck on purpose */ }
}

t.test('an answer or a refusal is heard; silence is not', async (t) => {
  t.equal(await heard(Promise.resolve('pong'), 100), true)
  t.equal(await heard(Promise.reject(new Error('refused')), 100), true)
  const start = Date.now()
  t.equal(await heard(new Promise(() => {}), 100), false)
  const took = Date.now() - start
  t.ok(took >= 100 && took < 1000, `silence judged after the timeout, not retried (${took} ms)`)
})

t.test('a thread that answered while the main thread was blocked past the deadline is heard', async (t) => {
  const worker = new Worker("const { parentPort } = require('node:worker_threads'); setTimeout(() => parentPort.postMessage('pong'), 50)", { eval: true })
  t.teardown(() => worker.terminate())
  const pong = new Promise((resolve) => worker.once('message', resolve))
  const judged = heard(pong, 100)
  busyWait(500)
  t.equal(await judged, true, 'the queued answer is let in before judging')
})

t.test('a wait the main thread overran starts again: an answer after the stall is heard', async (t) => {
  let answer!: (v: unknown) => void
  const pong = new Promise((resolve) => { answer = resolve })
  const judged = heard(pong, 100)
  busyWait(400)
  setTimeout(() => answer('pong'), 50)
  t.equal(await judged, true)
})
