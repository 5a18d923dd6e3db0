/**
 * The RepoWorker's projection domain: pure functions from events to issue
 * projections, the repository context view and the dependency graph.
 *
 * Folder rule: nothing here does I/O, reads a clock or keeps state between
 * calls; every result depends only on the set of events given, never on
 * their arrival order or on duplicates. The RepoWorker's effects own storage
 * and call in here.
 */
export { compareEvents, eventKey, sortUnique } from './order.ts'
export type { EventKey } from './order.ts'
export { applyEvent, detachLists, emptyIssue, ingestEvent, isIssueEvent, markLists, projectIssue, restoreLists, sortsAfter } from './issue.ts'
export type {
  EntryOrigin,
  IssueAttachment,
  IssueComment,
  IssueDependency,
  IssueLink,
  IssueProjection,
  ListMarks,
} from './issue.ts'
export {
  applyContextEvent,
  applyContextEvents,
  emptyContext,
  isContextEvent,
  listFileContexts,
  listProjectContext,
  projectContext,
} from './context.ts'
export type { ContextView, FileContext, ProjectContextEntry } from './context.ts'
export {
  blockersIn,
  blockersOf,
  checkNewDependency,
  checkNewDependencyIn,
  compareIssues,
  edgeOf,
  findNewCycle,
  findNewCycleIn,
  ready,
  wouldCreateCycle,
} from './graph.ts'
export type { GraphLookup } from './graph.ts'
export { topo, topoStrict } from './topo.ts'
export type { TopoResult } from './topo.ts'
