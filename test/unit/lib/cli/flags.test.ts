/**
 * The CLI's flags accept exactly what the operations' argument schemas
 * accept: the same ranges and the same choices (the CLI builds its flags
 * from the constants the schemas are built from, without loading zod).
 */
import t from 'tap'
import type { z } from 'zod'
import { InvalidArgumentError } from 'commander'
import { OPERATION_SPECS, type Method } from '../../../../protocol/operations/index.ts'
import { FLAGS } from '../../../../lib/cli/flags.ts'

function schemaOf(method: Method, field: string): z.ZodType {
  let s = (OPERATION_SPECS[method].args.shape as Record<string, z.ZodType>)[field]!
  while (s.def.type === 'optional') s = (s as unknown as { unwrap(): z.ZodType }).unwrap()
  return s
}

const accepts = (flag: (v: string) => unknown, v: string): boolean => {
  try {
    flag(v)
    return true
  } catch (err) {
    if (!(err instanceof InvalidArgumentError)) throw err
    return false
  }
}

const INT_FLAGS: [keyof typeof FLAGS, Method, string][] = [
  ['ttlMs', 'locks.acquire', 'ttlMs'], ['ttlMs', 'locks.renew', 'ttlMs'], ['ttlMs', 'issues.claim', 'ttlMs'],
  ['waitMs', 'locks.acquire', 'waitMs'], ['token', 'locks.renew', 'token'], ['token', 'locks.release', 'token'],
  ['token', 'issues.comment', 'lease'], ['fromSeq', 'events.read', 'fromSeq'], ['pageLimit', 'events.read', 'limit'],
  ['listLimit', 'issues.list', 'limit'], ['listLimit', 'issues.ready', 'limit'],
  ['pid', 'locks.acquire', 'pid'], ['pid', 'issues.claim', 'pid'],
  ['thread', 'runtime.move', 'thread'], ['watchLimit', 'runtime.watch', 'limit'], ['watchBuffer', 'runtime.watch', 'buffer'],
]

t.test('integer flags: the schema\'s range, both ends', async (t) => {
  for (const [flag, method, field] of INT_FLAGS) {
    const s = schemaOf(method, field) as unknown as { minValue: number; maxValue: number }
    const f = FLAGS[flag] as (v: string) => unknown
    t.ok(accepts(f, String(s.minValue)) && !accepts(f, String(s.minValue - 1)), `--${flag} for ${method}.${field}: from ${s.minValue}`)
    t.ok(accepts(f, String(s.maxValue)), `up to ${s.maxValue}`)
    if (s.maxValue < Number.MAX_SAFE_INTEGER) t.notOk(accepts(f, String(s.maxValue + 1)), 'and no further')
    t.notOk(accepts(f, '1.5') || accepts(f, 'x'), 'integers only')
  }
})

t.test('choice flags: the schema\'s choices', async (t) => {
  for (const [flag, method, field] of [['state', 'issues.list', 'state'], ['depType', 'issues.depend', 'type']] as const) {
    const options = (schemaOf(method, field) as unknown as { options: string[] }).options
    for (const o of options) t.ok(accepts(FLAGS[flag] as (v: string) => unknown, o), `--${flag} takes ${o}`)
    t.notOk(accepts(FLAGS[flag] as (v: string) => unknown, 'other'), 'and nothing else')
  }
})
