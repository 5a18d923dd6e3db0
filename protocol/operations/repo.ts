/**
 * Repository-wide operations (the store, the event log, the git WAL, sync,
 * grite import) and the daemon's own (`ping`, `daemon.status`, `daemon.stop`).
 */
import { z } from 'zod'
import { fromSeq, intIn, pageLimit, remote } from './fields.ts'
import { specs } from './spec.ts'

const PROGRESS = 'streams { phase, done, total } progress items, then replies with the report'

export const REPO_OPERATIONS = specs({
  'repo.init': {
    summary: 'open the repository in Cairn (creating its store) and say who the caller is in it',
    args: z.strictObject({}),
    reply: '{ repoId, path, actor, agent, events, issues }',
  },
  'events.read': {
    summary: 'one page of the local event log',
    args: z.strictObject({ fromSeq: fromSeq.optional(), limit: pageLimit.optional() }),
    reply: 'a list of logged events { seq, event }, in seq order; the next page starts at the last seq + 1',
  },
  'events.stats': {
    summary: 'counts of the store: events, issues, last seq, outbox, WAL drain state',
    args: z.strictObject({}),
    reply: '{ lastSeq, events, issues, outbox, wal: { pending, lastError, ... } }',
  },
  'events.follow': {
    summary: 'the local log from fromSeq on, then live',
    args: z.strictObject({ fromSeq: fromSeq.optional(), limit: intIn(1).optional().describe('end the stream after this many events') }),
    reply: 'streams { seq, event } items; the reply { count, nextSeq } ends the stream (after limit events, on stream.cancel, or when the daemon stops)',
    stream: true,
  },
  'wal.flush': {
    summary: "drain acknowledged events into the git WAL (refs/cairn/wal/<actor>) now",
    args: z.strictObject({}),
    reply: 'the drain report and WAL status',
  },
  'repo.doctor': {
    summary: "check the store's consistency (outbox against the WAL, drain errors); with fix, flush the WAL first",
    args: z.strictObject({ fix: z.boolean().optional().describe('repair what can be repaired') }),
    reply: '{ checks: [{ name, ok, detail, fixed? }] }',
  },
  sync: {
    summary: "fetch, ingest and push Cairn's refs with a git remote; resumable and single-flight",
    args: z.strictObject({
      remote: remote.optional().describe('the git remote: a configured name, a URL or a path (default origin)'),
      pull: z.boolean().optional().describe('fetch and ingest (default true)'),
      push: z.boolean().optional().describe("push this replica's refs (default true)"),
    }),
    reply: `${PROGRESS} { pulled, pushed, durationMs, diverged, ... }`,
    stream: true,
  },
  'import-grite': {
    summary: "ingest the repository's grite WAL (refs/grite/wal)",
    args: z.strictObject({}),
    reply: `${PROGRESS} { pulled, duplicates, durationMs }`,
    stream: true,
  },
  ping: {
    summary: 'a round trip',
    args: z.strictObject({}),
    reply: '{ pong: true, pid }',
    global: true,
  },
  'daemon.status': {
    summary: "the daemon's state: pid, uptime, connections, requests, repositories, memory",
    args: z.strictObject({}),
    reply: '{ pid, startedAt, uptimeMs, protocol, home, socket, connections, inflight, requests, idleTimeoutSec, maxConnections, rssBytes, repos, idleCloseSec, threads: [{ threadId, repos }] }',
    global: true,
  },
  'daemon.stop': {
    summary: 'stop the daemon once in-flight requests are answered',
    args: z.strictObject({}),
    reply: '{ stopping: true, pid }',
    global: true,
  },
})
