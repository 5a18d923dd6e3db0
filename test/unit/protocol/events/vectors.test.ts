// grite's normative hash vectors (docs/hash-vectors.md): each EventInput is
// built from the vector's fields, so a layout mistake in any kind shows here.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { bytesToHex, canonicalPreimage, computeEventId, KIND_TAGS } from '../../../../protocol/events/index.ts'
import type { EventInput, EventKind, EventKindType } from '../../../../protocol/events/index.ts'
import { blake2b256Pure, blake2bReady } from '../../../../protocol/events/blake2b.ts'

interface Vector {
  vector: number
  kind: EventKindType
  fields: {
    schema_version: number
    issue_id: string
    actor: string
    ts_unix_ms: number
    parent: string | null
    kind_tag: number
    kind_payload: unknown[]
    sha256?: string
  }
  preimage_hex: string
  event_id_hex: string
}

const file = new URL('../../../../../shared/vectors/grite-event-hash-vectors.json', import.meta.url)
const { vectors } = JSON.parse(readFileSync(file, 'utf8')) as { vectors: Vector[] }

function kindOf(v: Vector): EventKind {
  const p = v.fields.kind_payload as (string | null)[]
  switch (v.kind) {
    case 'IssueCreated':
      return { type: v.kind, title: p[0] as string, body: p[1] as string, labels: p[2] as unknown as string[] }
    case 'IssueUpdated':
      return { type: v.kind, title: p[0], body: p[1] }
    case 'CommentAdded':
      return { type: v.kind, body: p[0] as string }
    case 'LabelAdded':
    case 'LabelRemoved':
      return { type: v.kind, label: p[0] as string }
    case 'StateChanged':
      return { type: v.kind, state: p[0] as 'open' | 'closed' }
    case 'LinkAdded':
      return { type: v.kind, url: p[0] as string, note: p[1] }
    case 'AssigneeAdded':
    case 'AssigneeRemoved':
      return { type: v.kind, user: p[0] as string }
    case 'AttachmentAdded':
      // The payload shows '<sha256>'; the notes say the bytes are fields.sha256.
      return { type: v.kind, name: p[0] as string, sha256: v.fields.sha256 as string, mime: p[2] as string }
    default:
      throw new Error(`no builder for ${v.kind}`)
  }
}

t.equal(vectors.length, 10, 'all ten vectors present')
// The ids below come from the WebAssembly hasher; the pure-JS one is checked on the preimages too.
await blake2bReady

for (const v of vectors) {
  t.test(`vector ${v.vector} (${v.kind})`, async (t) => {
    t.equal(v.fields.schema_version, 1)
    t.equal(KIND_TAGS[v.kind], v.fields.kind_tag, 'kind tag')
    const input: EventInput = {
      issueId: v.fields.issue_id,
      actor: v.fields.actor,
      tsUnixMs: v.fields.ts_unix_ms,
      parent: v.fields.parent,
      kind: kindOf(v),
    }
    t.equal(bytesToHex(canonicalPreimage(input)), v.preimage_hex, 'preimage bytes')
    t.equal(computeEventId(input), v.event_id_hex, 'event id')
    t.equal(bytesToHex(blake2b256Pure(Buffer.from(v.preimage_hex, 'hex'))), v.event_id_hex, 'event id, pure-JS BLAKE2b')
  })
}

t.test('IssueCreated labels are sorted before hashing', async (t) => {
  const v = vectors[0] as Vector
  const input: EventInput = {
    issueId: v.fields.issue_id,
    actor: v.fields.actor,
    tsUnixMs: v.fields.ts_unix_ms,
    parent: null,
    kind: { type: 'IssueCreated', title: 'Test', body: 'Body', labels: ['p0', 'bug'] },
  }
  t.equal(computeEventId(input), v.event_id_hex)
})
