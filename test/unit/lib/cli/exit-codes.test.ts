/** The exit-code table: total over ERROR_CODES, one number per code, none reused. */
import t from 'tap'
import { ERROR_CODES } from '../../../../protocol/errors.ts'
import { EXIT_CODES, exitCodeOf } from '../../../../lib/cli/exit-codes.ts'
import { EXIT_UNHEALTHY } from '../../../../lib/cli/commands/doctor.ts'

t.test('every error code has its own exit code', async (t) => {
  const codes = Object.keys(ERROR_CODES)
  t.same(codes.filter((c) => !(c in EXIT_CODES)), [], 'no error code without an exit code (add the next free number)')
  const numbers = Object.values(EXIT_CODES)
  t.equal(new Set(numbers).size, numbers.length, 'no two error codes share an exit code')
  t.ok(numbers.every((n) => Number.isInteger(n) && n > 0 && n < 64), 'all in 1..63 (0 is success; 64+ left to the shell)')
  t.notOk(numbers.includes(EXIT_UNHEALTHY), 'doctor\'s "unhealthy" exit code is not an error code\'s')
  t.equal(exitCodeOf('NOT_FOUND'), 3)
  t.equal(exitCodeOf('SOMETHING_NEW'), EXIT_CODES.INTERNAL, 'an unknown code exits like INTERNAL')
})
