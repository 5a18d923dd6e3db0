/**
 * The Supervisor's operations (`cairn runtime ...`): inspect the actors,
 * watch supervision events, restart, close (passivate) and move a
 * repository. They act on the runtime, not on the request's `repo`: the
 * repository they name is their `path` argument (absolute: the daemon's
 * working directory is not the caller's).
 */
import { z } from 'zod'
import { MAX_WATCH_BUFFER } from '../limits.ts'
import { intIn } from './fields.ts'
import { specs } from './spec.ts'

const path = z.string({ error: 'must be an absolute path inside a git repository' })
  .min(1, { error: 'must be an absolute path inside a git repository' })
  .max(4096, { error: 'must be at most 4096 characters' })
  .refine((p) => p.startsWith('/'), { error: 'must be an absolute path inside a git repository' })
  .describe('a path inside the repository (absolute)')

const HAND_OFF = '{ repo, from, to, ms }: the threads before and after (null when closed), and how long requests were held'

export const RUNTIME_OPERATIONS = specs({
  'runtime.actors': {
    summary: 'a snapshot of every actor of every open repository: thread, supervision state, mailbox, messages handled, restarts, last failure, open since',
    args: z.strictObject({}),
    reply: 'a list of { repo, repoId, actor, kind, thread, state, machine, mailbox, capacity, handled, restarts, lastFailure: { cause, at } | null, openSince }',
    global: true,
  },
  'runtime.watch': {
    summary: 'supervision events from now on: placed, started, failed (with cause), restarted, gave-up, thread-died, closed, moved',
    args: z.strictObject({
      limit: intIn(1).optional().describe('end the stream after this many items'),
      buffer: intIn(1, MAX_WATCH_BUFFER).optional().describe('events held for this watcher while it is slow (default 1024); past that a { type: missed, count, fromSeq, toSeq } item replaces the dropped ones'),
    }),
    reply: 'streams { seq, at, type, repo, repoId, kind?, thread?, cause?, ... } items; the reply { count } ends the stream (after limit items, on stream.cancel, or when the daemon stops)',
    stream: true,
    global: true,
  },
  'runtime.restart': {
    summary: 'restart a repository on its thread with a fresh restart history (brings it back from ACTOR_FAILED); requests meanwhile wait',
    args: z.strictObject({ path }),
    reply: HAND_OFF,
    global: true,
  },
  'runtime.close': {
    summary: 'passivate a repository: in-flight requests finish, the WAL drains, actors persist and stop, its thread slot and store are freed; its next use opens it again',
    args: z.strictObject({ path }),
    reply: HAND_OFF,
    global: true,
  },
  'runtime.move': {
    summary: 'hand a repository off to another thread (drain, persist, reopen there); requests in flight are answered, later ones wait',
    args: z.strictObject({ path, thread: intIn(0).describe('the target thread id (see runtime.actors or daemon.status)') }),
    reply: HAND_OFF,
    global: true,
  },
})
