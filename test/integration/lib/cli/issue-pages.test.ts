/**
 * `cairn issue list` and `cairn issue ready` page with `--limit` and
 * `--after` (the full id of the last issue of the previous page), on an
 * embedded runtime: the pages, put together, are the whole listing, and a
 * cursor that names no issue is INVALID_ARGUMENT's exit code.
 */
import t from 'tap'
import { EXIT_CODES } from '../../../../lib/cli/exit-codes.ts'
import { sandbox } from '../../../helpers/tmp-repos.ts'
import { cli, envelope } from '../daemon/daemon-helpers.ts'

t.test('issue list and ready, a page at a time', async (t) => {
  const box = sandbox()
  t.teardown(() => box.cleanup())
  const environment = { ...process.env, CAIRN_HOME: box.home }
  const repo = box.repo('pages')
  const run = async (args: string[]) => envelope(await cli([...args, '--json', '-C', repo, '--no-daemon'], environment))
  const ids: string[] = []
  for (let i = 0; i < 3; i++) ids.push(((await run(['issue', 'create', `i${i}`])).data as { id: string }).id)
  const all = ((await run(['issue', 'list'])).data as { id: string }[]).map((s) => s.id)
  t.same(all, ids, 'the whole list, in creation order')
  for (const cmd of ['list', 'ready']) {
    const got: string[] = []
    for (let pages = 0; pages < 10; pages++) {
      const page = ((await run(['issue', cmd, '-n', '2', ...(got.length > 0 ? ['--after', got.at(-1) as string] : [])])).data as { id: string }[]).map((s) => s.id)
      t.ok(page.length <= 2, `${cmd}: a page holds at most --limit issues`)
      got.push(...page)
      if (page.length < 2) break
    }
    t.same(got, ids, `${cmd}: the pages put together are the whole listing`)
  }
  const r = await cli(['issue', 'list', '--after', 'f'.repeat(32), '--json', '-C', repo, '--no-daemon'], environment)
  t.equal(r.code, EXIT_CODES.INVALID_ARGUMENT, 'an unknown cursor: INVALID_ARGUMENT')
  t.match(envelope(r).error, { code: 'INVALID_ARGUMENT' })
})
