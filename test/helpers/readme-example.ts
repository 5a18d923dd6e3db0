/**
 * The embedding example of README.md (between the embed-example markers) and
 * what it prints, shared by the test that runs it from the sources and the
 * one that runs it from the packed package, so the README cannot rot.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const README = fileURLToPath(new URL('../../README.md', import.meta.url))

/** The example's code, as written in the README. */
export function readmeExample(): string {
  const m = /<!-- embed-example:start -->\s*```ts\n([\s\S]*?)```\s*<!-- embed-example:end -->/.exec(readFileSync(README, 'utf8'))
  if (!m) throw new Error('README.md has no marked embedding example')
  return m[1]!
}

/** Its stdout, line by line: ready, the idempotent retry, CYCLE, then the replayed log. */
export const README_EXAMPLE_LINES = [
  "[ 'Design the API' ]",
  'true',
  'refused: would close a cycle',
  '1 IssueCreated',
  '2 IssueCreated',
  '3 DependencyAdded',
  '4 CommentAdded',
]
