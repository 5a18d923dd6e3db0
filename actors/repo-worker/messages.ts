/**
 * What each message the RepoWorker accepts is, decided here and nowhere
 * else: the actor's index routes by it, its shell dispatches by it, and the
 * store reader on the caller's thread answers exactly the queries it marks
 * `store`.
 *
 * Roles:
 * - `command`: a write of the event log (commands/parse.ts validates it);
 *   runs at once against the writer's view and commits in a fenced block.
 * - `query`: a read of committed state (queries.ts). `store`: any thread
 *   may answer it from LMDB; `worker`: only the RepoWorker can (stats carry
 *   its WAL drain's state, and `ready` needs its incrementally kept ready
 *   set and the lease gate: claimed issues are left out).
 * - `flush`: drains the outbox into the git WAL; answered when it is in git.
 * - `journaled`: a write of the record log (journal/record-log.ts), journaled
 *   while in flight so a crash leaves it for boot reconciliation.
 * - `journal-read`: a read of the record log or of the durable timers.
 */
import { MESSAGE_TYPES as M } from '../../protocol/messages.ts'

export type RepoWorkerRole = 'command' | 'query' | 'flush' | 'journaled' | 'journal-read'

export type RepoWorkerEntry =
  | { role: 'query'; answeredBy: 'store' | 'worker' }
  | { role: Exclude<RepoWorkerRole, 'query'> }

const command = { role: 'command' } as const
const fromStore = { role: 'query', answeredBy: 'store' } as const

export const REPO_WORKER_MESSAGES: Readonly<Record<string, RepoWorkerEntry>> = Object.freeze({
  [M.identity]: command,
  [M.issueCreate]: command,
  [M.issueUpdate]: command,
  [M.issueComment]: command,
  [M.issueState]: command,
  [M.issueLabel]: command,
  [M.issueAssign]: command,
  [M.issueLink]: command,
  [M.issueAttach]: command,
  [M.issueDepend]: command,
  [M.issueClaimNext]: command,
  [M.eventsIngest]: command,
  [M.issueShow]: fromStore,
  [M.issueList]: fromStore,
  [M.issueReady]: fromStore,
  [M.issueTopo]: fromStore,
  [M.issueHistory]: fromStore,
  [M.eventsRead]: fromStore,
  [M.identityList]: fromStore,
  [M.eventsStats]: { role: 'query', answeredBy: 'worker' },
  [M.walFlush]: { role: 'flush' },
  [M.append]: { role: 'journaled' },
  [M.scheduleTimer]: { role: 'journaled' },
  [M.get]: { role: 'journal-read' },
  [M.scan]: { role: 'journal-read' },
  [M.count]: { role: 'journal-read' },
  [M.listTimers]: { role: 'journal-read' },
})

/** The entry of `type`, or undefined for a message the RepoWorker does not handle (own keys only). */
export function repoWorkerMessage(type: string): RepoWorkerEntry | undefined {
  return Object.hasOwn(REPO_WORKER_MESSAGES, type) ? REPO_WORKER_MESSAGES[type] : undefined
}

/** Whether a write: it makes the machine commit (commands and the record log's writes). */
export function isWrite(entry: RepoWorkerEntry): boolean {
  return entry.role === 'command' || entry.role === 'journaled'
}

/** Whether the store reader on the caller's thread answers `type` (a `store` query); the body does not matter. */
export function answeredFromStore(type: string, _body: Record<string, unknown>): boolean {
  const entry = repoWorkerMessage(type)
  return entry?.role === 'query' && entry.answeredBy === 'store'
}
