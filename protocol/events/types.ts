/**
 * grite's event model, schema version 1, in Cairn's camelCase form.
 *
 * Ids are lowercase hex strings on the API side: issue and actor ids are
 * 16 bytes (32 hex), event ids and parents 32 bytes (64 hex). The canonical
 * (hashed) form is CBOR with byte strings; see canonical.ts.
 */

export const EVENT_SCHEMA_VERSION = 1

export type DepType = 'blocks' | 'depends_on' | 'related_to'
export type IssueState = 'open' | 'closed'

export interface SymbolInfo {
  name: string
  kind: string
  lineStart: number
  lineEnd: number
}

/** The 14 kinds, tags 1..14 in this order (grite's `kind_tag`). */
export type EventKind =
  | { type: 'IssueCreated'; title: string; body: string; labels: string[] }
  | { type: 'IssueUpdated'; title?: string | null; body?: string | null }
  | { type: 'CommentAdded'; body: string }
  | { type: 'LabelAdded'; label: string }
  | { type: 'LabelRemoved'; label: string }
  | { type: 'StateChanged'; state: IssueState }
  | { type: 'LinkAdded'; url: string; note?: string | null }
  | { type: 'AssigneeAdded'; user: string }
  | { type: 'AssigneeRemoved'; user: string }
  | { type: 'AttachmentAdded'; name: string; sha256: string; mime: string }
  | { type: 'DependencyAdded'; target: string; depType: DepType }
  | { type: 'DependencyRemoved'; target: string; depType: DepType }
  | { type: 'ContextUpdated'; path: string; language: string; symbols: SymbolInfo[]; summary: string; contentHash: string }
  | { type: 'ProjectContextUpdated'; key: string; value: string }

export type EventKindType = EventKind['type']

/** Kind name -> grite kind tag. */
export const KIND_TAGS: Readonly<Record<EventKindType, number>> = {
  IssueCreated: 1,
  IssueUpdated: 2,
  CommentAdded: 3,
  LabelAdded: 4,
  LabelRemoved: 5,
  StateChanged: 6,
  LinkAdded: 7,
  AssigneeAdded: 8,
  AssigneeRemoved: 9,
  AttachmentAdded: 10,
  DependencyAdded: 11,
  DependencyRemoved: 12,
  ContextUpdated: 13,
  ProjectContextUpdated: 14,
}

/** An event before its id is computed. */
export interface EventInput {
  issueId: string
  actor: string
  tsUnixMs: number
  parent: string | null
  kind: EventKind
}

/** A stored event: the input plus its content-derived id and optional signature. */
export interface CairnEvent extends EventInput {
  eventId: string
  sig?: Uint8Array | null
}
