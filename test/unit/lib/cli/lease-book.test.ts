/**
 * The daemon's book of leases granted to CLI callers: bounded, and every
 * handle it drops lets go of the runtime (dispose), so a daemon that runs for
 * weeks holds only live leases.
 */
import t from 'tap'
import { leaseBook, type LeaseHandleLike } from '../../../../lib/daemon/operations/types.ts'

function fake(resource: string, token: number, expiresAt: number, disposed: string[]): LeaseHandleLike {
  return { resource, token, expiresAt, renew: async () => {}, release: async () => {}, dispose: () => { disposed.push(`${resource}#${token}`) } }
}

t.test('expired handles are dropped and disposed on the next put', async (t) => {
  let now = 1_000
  const disposed: string[] = []
  const book = leaseBook(() => now)
  book.put(fake('path:a', 1, 2_000, disposed))
  book.put(fake('path:b', 1, 5_000, disposed))
  t.equal(book.size(), 2)
  now = 3_000
  book.put(fake('path:c', 1, 9_000, disposed))
  t.same(disposed, ['path:a#1'], 'only the expired one')
  t.equal(book.get('path:a', 1), undefined)
  t.ok(book.get('path:b', 1), 'live handles stay')
  t.equal(book.size(), 2)
})

t.test('over capacity the oldest goes, disposed; delete disposes too', async (t) => {
  const disposed: string[] = []
  const book = leaseBook(() => 0, 3)
  for (let i = 1; i <= 5; i++) book.put(fake('issue:x', i, 10, disposed))
  t.equal(book.size(), 3, 'bounded')
  t.same(disposed, ['issue:x#1', 'issue:x#2'], 'oldest first')
  book.delete('issue:x', 4)
  t.same(disposed, ['issue:x#1', 'issue:x#2', 'issue:x#4'])
  book.delete('issue:x', 99)
  t.equal(disposed.length, 3, 'deleting an unknown lease disposes nothing')
})
