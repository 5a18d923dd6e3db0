import t from 'tap'
import { bytesToHex, hexToBytes, isHexId } from '../../../../protocol/events/hex.ts'

t.test('bytesToHex is lowercase, two digits per byte, and honours views into a larger buffer', async (t) => {
  t.equal(bytesToHex(new Uint8Array(0)), '')
  t.equal(bytesToHex(Uint8Array.of(0, 1, 15, 16, 171, 255)), '00010f10abff')
  const all = Uint8Array.from({ length: 256 }, (_, i) => i)
  const expected = Array.from(all, (b) => b.toString(16).padStart(2, '0')).join('')
  t.equal(bytesToHex(all), expected, 'every byte value')
  // A subarray shares its buffer: only the view's bytes may be read.
  t.equal(bytesToHex(all.subarray(250, 253)), 'fafbfc', 'a view at an offset')
  const big = new Uint8Array(64).fill(0xee)
  big.set([1, 2], 10)
  t.equal(bytesToHex(big.subarray(10, 12)), '0102')
})

t.test('hexToBytes and bytesToHex round-trip; hexToBytes refuses other spellings', async (t) => {
  const hex = '000102030405060708090a0b0c0d0e0f'
  t.equal(bytesToHex(hexToBytes(hex, 16, 'issueId')), hex)
  for (const bad of [hex.toUpperCase(), hex.slice(2), `${hex}00`, 'zz'.repeat(16), 42, null]) {
    t.throws(() => hexToBytes(bad, 16, 'issueId'), { code: 'INVALID_ARGUMENT', message: /issueId must be 32 lowercase hex characters/ }, String(bad))
  }
  t.equal(isHexId(hex, 16), true)
  t.equal(isHexId(hex.toUpperCase(), 16), false)
})
