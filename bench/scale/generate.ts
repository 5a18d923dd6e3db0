/**
 * Fills a repository's store with a board of `issues` issues fast enough
 * for a 100k-issue (1M-event) run: straight through the RepoWorker's own
 * write path (parseCommand, applyCommand, CommandBlocks with its fenced,
 * group-committed blocks) in this thread, thousands of commands per block,
 * instead of one socket or thread round trip per call. Every event is a
 * real one: hashed, chunk-recorded, indexed and folded as a served write is.
 *
 * The board: every issue is created with one of five labels and gets
 * `eventsPerIssue - 2` comments; every 3rd is closed, every 7th is
 * assigned, every 10th depends on the issue created just before it (so
 * ready has blocked issues to skip). That is `eventsPerIssue` events per
 * issue, give or take the closes and assignments.
 *
 * The outbox is emptied at the end, as if the WAL drain had run: an open
 * then measures serving, not a git drain of a million events. Only while no
 * runtime has the repository open (the RepoWorker is the store's only writer).
 *
 * The store is then compacted (`cairn compact`'s compactStore), as a store that has
 * lived through its writes would be: a bulk load in blocks of thousands of
 * commands plus the outbox clear leave a third of the file on LMDB's free
 * list, and the first commits after it pay for that list (the writes of
 * the first second after the open ran at 0.3× the later ones at 10k issues;
 * 0.45× once compacted). bench:scale reports that first second apart.
 */
import { join } from 'node:path'
import type { Envelope } from '../../protocol/envelope.ts'
import { MESSAGE_TYPES as M } from '../../protocol/messages.ts'
import type { LeaseGate } from '../../lib/kernel/ports/lease-gate.ts'
import { openStore } from '../../lib/kernel/store/open-store.ts'
import { compactStore } from '../../lib/kernel/store/compact.ts'
import { breakSeal } from '../../lib/kernel/store/seal.ts'
import { CommandBlocks, type Answer, type PendingCommand } from '../../actors/repo-worker/blocks.ts'
import { parseCommand } from '../../actors/repo-worker/commands/parse.ts'
import { applyCommand } from '../../actors/repo-worker/commands/apply.ts'
import { openRepoDbs } from '../../actors/repo-worker/store/dbs.ts'

export const LABELS = ['bug', 'ui', 'db', 'docs', 'perf']
const COMMANDS_PER_BLOCK = 2000

/** No leases on a generated board: the policy is off and nothing is held. */
const NO_LEASES = {
  policy: () => 'off',
  checkWrite: () => [],
  claimedBy: () => null,
} as unknown as LeaseGate

export interface Generated { issues: number; events: number; ms: number; ids: string[] }

export async function generateBoard(repoPath: string, actor: string, opts: { issues: number; eventsPerIssue: number; commentChars: number }): Promise<Generated> {
  const storeDir = join(repoPath, '.git', 'cairn')
  const env = await openStore(storeDir, 'repo')
  const dbs = openRepoDbs(env)
  const before = dbs.byIssue.getCount()
  const answers = new Map<number, Answer>()
  const blocks = new CommandBlocks(env, dbs, {
    run: (cmd, batch) => applyCommand(cmd as Parameters<typeof applyCommand>[0], batch, Date.now(), NO_LEASES),
    read: () => ({ ok: true, value: null }),
    // Creates for their ids, the rest only when refused: a million answers would be most of the heap.
    reply: (req, a) => { if (req.type === M.issueCreate || !a.ok) answers.set(req.id, a) },
    appended: () => {},
  })
  let nextReq = 0
  const command = (type: string, body: Record<string, unknown>): PendingCommand => {
    const req = { v: 1, id: ++nextReq, type, from: 'bench', to: 'repo-worker', body: { actor, ...body } } as Envelope
    return { cmd: parseCommand(req), req }
  }
  const runAll = async (cmds: PendingCommand[]): Promise<void> => {
    for (let i = 0; i < cmds.length; i += COMMANDS_PER_BLOCK) await blocks.run(cmds.slice(i, i + COMMANDS_PER_BLOCK))
    await blocks.settled()
  }
  const started = performance.now()
  let closed = false
  try {
    const creates = Array.from({ length: opts.issues }, (_, i) => command(M.issueCreate, { title: `issue ${i} of the generated board`, labels: [LABELS[i % LABELS.length]] }))
    await runAll(creates)
    const ids = creates.map((c) => {
      const a = answers.get(c.req.id)
      if (!a?.ok) throw new Error(`generate: create ${c.req.id} failed: ${a && !a.ok ? a.error.message : 'no answer'}`)
      return (a.value as { id: string }).id
    })
    answers.clear()
    const body = 'x'.repeat(opts.commentChars)
    const rest: PendingCommand[] = []
    for (const [i, id] of ids.entries()) {
      for (let c = 0; c < opts.eventsPerIssue - 2; c++) rest.push(command(M.issueComment, { id, body }))
      if (i % 10 === 9) rest.push(command(M.issueDepend, { id, target: ids[i - 1], type: 'depends_on' }))
      if (i % 3 === 2) rest.push(command(M.issueState, { id, state: 'closed' }))
      else if (i % 7 === 0) rest.push(command(M.issueAssign, { id, add: ['ann'] }))
    }
    await runAll(rest)
    const failed = [...answers.values()].filter((a) => !a.ok)
    if (failed.length > 0) throw new Error(`generate: ${failed.length} commands failed, first: ${(failed[0] as { error: Error }).error.message}`)
    const ms = performance.now() - started
    await dbs.outbox.clearAsync()
    await env.flushed
    const events = dbs.byIssue.getCount() - before
    closed = true
    await env.close()
    await compactStore(storeDir)
    // bench:scale's first open checks the whole file, as after any writer that did not close cleanly.
    breakSeal(storeDir)
    return { issues: opts.issues, events, ms, ids }
  } finally {
    if (!closed) await env.close()
  }
}

