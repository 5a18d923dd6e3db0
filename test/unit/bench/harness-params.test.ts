import t from 'tap'
import { parseHarnessArgs, SCALING_AGENTS, SCALING_THREADS, UsageError, type HarnessParams } from '../../../bench/harness/params.ts'
import { MIXES } from '../../../bench/harness/mix.ts'

const parse = (...argv: string[]): HarnessParams => {
  const out = parseHarnessArgs(argv)
  if (out.help) throw new Error('unexpected --help')
  return out.params
}

t.test('defaults: every scenario, the scaling matrix, the default mix', async (t) => {
  const p = parse()
  t.same(p.scenarios, ['burst', 'sustained', 'ramp'])
  t.equal(p.scaling, true)
  t.same(p.scalingThreads, SCALING_THREADS)
  t.same(p.scalingAgents, SCALING_AGENTS)
  t.same(SCALING_THREADS, [1, 2, 4])
  t.same(SCALING_AGENTS, [10, 50, 100])
  t.same(p.mix, MIXES.default)
  t.match(p, { agents: 50, threads: 2, mode: 'both', modeDefaulted: true, rate: null, seed: 1, outDir: 'bench-out', quick: false })
})

t.test('--quick shrinks sizes and the matrix', async (t) => {
  const q = parse('--quick')
  const f = parse()
  t.ok(q.ops < f.ops && q.agents < f.agents && q.maxSeconds < f.maxSeconds)
  t.ok(q.scalingThreads.length * q.scalingAgents.length < f.scalingThreads.length * f.scalingAgents.length)
})

t.test('scenario lists', async (t) => {
  t.same(parse('--scenario', 'burst').scenarios, ['burst'])
  t.equal(parse('--scenario', 'burst').scaling, false)
  const s = parse('--scenario', 'scaling')
  t.same(s.scenarios, [])
  t.equal(s.scaling, true)
  t.same(parse('--scenario', 'ramp,burst,ramp').scenarios, ['burst', 'ramp'], 'run order, no duplicates')
})

t.test('flags are read', async (t) => {
  const p = parse('--agents', '7', '--ops', '123', '--threads', '4', '--mode', 'embedded', '--mix', 'agents',
    '--rate', '99', '--seed', '42', '--max-seconds', '5', '--out', '/tmp/x')
  t.match(p, { agents: 7, ops: 123, threads: 4, mode: 'embedded', modeDefaulted: false, mixName: 'agents', rate: 99, seed: 42, maxSeconds: 5, outDir: '/tmp/x' })
  t.same(p.mix, MIXES.agents)
  t.same(parse('--mix', 'create=1,close=2').mix, { create: 1, close: 2 })
  t.same(parseHarnessArgs(['--help']), { help: true })
})

t.test('bad input: UsageError naming the flag', async (t) => {
  const bad: [string[], RegExp][] = [
    [['--agents', 'x'], /--agents must be a whole number/],
    [['--agents', '0'], /--agents must be from 1/],
    [['--agents', '1.5'], /--agents must be a whole number/],
    [['--ops', '-3'], /--ops/],
    [['--threads', '65'], /--threads must be from 1 to 64/],
    [['--scenario', 'soak'], /--scenario must be one of burst, sustained, ramp, scaling, all/],
    [['--mode', 'remote'], /--mode must be one of embedded, daemon, both/],
    [['--mix', 'chaos'], /--mix must be default, agents or kind=weight/],
    [['--mix', 'create=1,fly=2'], /unknown operation 'fly'/],
    [['--mix', 'create=0'], /no operation with a positive weight/],
    [['--out', ''], /--out needs a directory/],
    [['--nope'], /Unknown option '--nope'/],
    [['positional'], /positional/i],
    [['--agents'], /argument missing/],
  ]
  for (const [argv, message] of bad) t.throws(() => parseHarnessArgs(argv), message, argv.join(' '))
  t.throws(() => parseHarnessArgs(['--agents', 'x']), UsageError)
})
