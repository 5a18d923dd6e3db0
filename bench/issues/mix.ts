/**
 * The write mix of the issue benchmarks, shared by the concurrent writers
 * (scenario 1) and by the population of the list and open repositories, so
 * the issues measured in scenarios 2 and 3 look like the ones written in 1.
 *
 * An issue's life is `eventsPerIssue` calls: call 0 creates it, later calls
 * mostly comment, every 4th adds a label and every 7th an assignee, so
 * projections carry labels and assignees as well as comments. Each call
 * appends exactly one event; nothing closes an issue, so a listing of
 * `state: 'open'` returns every issue.
 */

export type CallKind = 'create' | 'comment' | 'label' | 'assign'

/**
 * What call `k` (0-based) of an issue's life is.
 * @example callKind(0) // 'create'
 */
export function callKind(k: number): CallKind {
  if (!Number.isSafeInteger(k) || k < 0) throw new RangeError(`call index must be a non-negative integer, got ${k}`)
  if (k === 0) return 'create'
  if (k % 4 === 0) return 'label'
  if (k % 7 === 0) return 'assign'
  return 'comment'
}

/**
 * Text of exactly `chars` characters starting with `tag`, so every comment
 * (and the raw baseline's value) has the same size whatever its number.
 * @example paddedText('c12', 8) // 'c12 ....'
 */
export function paddedText(tag: string, chars: number): string {
  if (!Number.isSafeInteger(chars) || chars < 1) throw new RangeError(`chars must be a positive integer, got ${chars}`)
  const head = `${tag} `
  return head.length >= chars ? head.slice(0, chars) : head + '.'.repeat(chars - head.length)
}

/** The part of the repo handle the mix drives (structural, so tests can fake it). */
export interface IssueWriter {
  issues: {
    create(fields: { title: string; body?: string; labels?: string[] }): Promise<{ id: string }>
    comment(id: string, body: string): Promise<{ eventIds: string[] }>
    label(id: string, change: { add?: string[] }): Promise<{ eventIds: string[] }>
    assign(id: string, change: { add?: string[] }): Promise<{ eventIds: string[] }>
  }
}

/**
 * Makes call `k` of an issue's life through `repo`; `issueId` is ignored for
 * call 0. `n` numbers the call within the run (it only varies the text).
 * Resolves, once acknowledged, to the issue id and the number of events the
 * call appended.
 */
export async function makeCall(
  repo: IssueWriter, k: number, issueId: string | null, n: number, commentChars: number,
): Promise<{ issueId: string; events: number }> {
  const kind = callKind(k)
  const tag = String(n)
  if (kind === 'create') {
    const created = await repo.issues.create({
      title: paddedText(`Issue ${tag}`, 48), body: paddedText(`body ${tag}`, commentChars * 2), labels: ['bench', `area-${n % 8}`],
    })
    return { issueId: created.id, events: 1 }
  }
  if (issueId === null) throw new Error(`call ${k} of an issue needs the issue's id`)
  const res = kind === 'comment' ? await repo.issues.comment(issueId, paddedText(`c${tag}`, commentChars))
    : kind === 'label' ? await repo.issues.label(issueId, { add: [`label-${k}`] })
      : await repo.issues.assign(issueId, { add: [`user-${k % 5}`] })
  return { issueId, events: res.eventIds.length }
}
