/**
 * A process that keeps decoding envelopes (a daemon client) loads msgpackr's
 * native string extractor after its first few dozen; one that decodes a
 * handful (a one-shot CLI call) never pays for loading it. Run in a fresh
 * process: any process that loaded lmdb has the extractor already.
 */
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const CODEC = new URL('../../../protocol/codec.ts', import.meta.url).href
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

const SCRIPT = `
const m = await import('msgpackr/pack')
const { decode, encode } = await import(${JSON.stringify(CODEC)})
const frame = encode({ v: 1, id: 1, type: 'ping', from: 'a', to: 'b', body: { text: 'x'.repeat(40) } })
const seen = []
for (let i = 1; i <= 70; i++) {
  decode(frame)
  if (i === 8 || i === 63) { await new Promise((r) => setTimeout(r, 200)); seen.push(m.isNativeAccelerationEnabled) }
}
for (let i = 0; i < 100 && !m.isNativeAccelerationEnabled; i++) await new Promise((r) => setTimeout(r, 20))
seen.push(m.isNativeAccelerationEnabled)
console.log(JSON.stringify(seen))
`

t.test('the native string extractor loads after a few dozen decoded envelopes, not before', async (t) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 })
  t.equal(r.status, 0, r.stderr)
  const [after8, after63, after70] = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as boolean[]
  t.equal(after8, false, 'a handful of decodes (a CLI call) load nothing')
  t.equal(after63, false, 'nor do 63')
  t.equal(after70, true, 'a process that keeps decoding loads it')
})
