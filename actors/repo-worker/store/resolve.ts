/**
 * Issue references: a full id or a unique prefix (at least 4 hex digits).
 * NOT_FOUND when nothing matches, AMBIGUOUS_ID (with the first candidates)
 * when several do.
 */
import type { Database } from 'lmdb'
import { CairnError } from '../../../protocol/errors.ts'

const ISSUE_END = '\uffff'

export function resolveRef(issues: Database<unknown, string>, ref: string, field: string, exists: (id: string) => boolean, inFlight: () => string[] = () => []): string {
  if (ref.length === 32) {
    if (!exists(ref)) throw new CairnError('NOT_FOUND', `no issue ${ref}`, { field, id: ref })
    return ref
  }
  // Issues whose creation is still in flight are not in the issues database yet.
  const matches = inFlight()
  for (const key of issues.getKeys({ start: ref, end: ref + ISSUE_END, limit: 6 })) if (!matches.includes(key as string)) matches.push(key as string)
  matches.sort()
  if (matches.length === 0) throw new CairnError('NOT_FOUND', `no issue with id prefix ${ref}`, { field, id: ref })
  if (matches.length > 1) {
    throw new CairnError('AMBIGUOUS_ID', `id prefix ${ref} matches ${matches.length > 5 ? 'more than 5' : matches.length} issues`,
      { field, id: ref, candidates: matches.slice(0, 5) })
  }
  return matches[0] as string
}

