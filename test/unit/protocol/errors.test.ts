import t from 'tap'
import { CairnError, ERROR_CODES, isCairnError, isErrorCode } from '../../../protocol/errors.ts'

t.test('every code round-trips through its wire form', async (t) => {
  for (const code of Object.keys(ERROR_CODES) as (keyof typeof ERROR_CODES)[]) {
    const e = new CairnError(code, `m-${code}`, { k: 1 })
    const back = CairnError.fromWire(JSON.parse(JSON.stringify(e.toWire())))
    t.equal(back.code, code)
    t.equal(back.message, `m-${code}`)
    t.same(back.details, { k: 1 })
    t.ok(isCairnError(back, code))
  }
})

t.test('malformed wire errors become INTERNAL instead of throwing', async (t) => {
  for (const bad of [null, 1, 'x', {}, { code: 'NOPE', message: 'm' }, { code: 'TIMEOUT' }, []]) {
    const e = CairnError.fromWire(bad)
    t.equal(e.code, 'INTERNAL')
  }
})

t.test('from() keeps stable codes and wraps the rest', async (t) => {
  t.equal(CairnError.from(new Error('boom')).code, 'INTERNAL')
  t.equal(CairnError.from({ code: 'NOT_FOUND', message: 'gone' }).code, 'NOT_FOUND')
  t.equal(CairnError.from({ code: 'ENOENT', message: 'fs' }).code, 'INTERNAL')
  t.notOk(isErrorCode('ENOENT'))
})
