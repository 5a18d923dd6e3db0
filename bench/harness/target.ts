/**
 * What the harness drives: a Target is one way of reaching Cairn (embedded
 * in this process, or a daemon over its socket), and a Session is one
 * simulated agent's handle on the benchmark repository through it.
 *
 * The interface is the harness's own, narrow and structural, so the agent
 * loop is the same for every mode and a test can drive it with a fake. A
 * target lists the operations it can do; the harness drops the others from
 * the mix and reports why, rather than faking them.
 */
import type { BenchDirs } from '../lib/dirs.ts'
import type { OpKind } from './mix.ts'

/** A lease an agent holds (from claim or acquire). */
export interface HeldLease {
  readonly resource: string
  renew(ttlMs: number): Promise<void>
  release(): Promise<void>
}

/** One agent's calls; each resolves once Cairn acknowledged it (writes are durable). */
export interface Session {
  readonly agent: string
  create(fields: { title: string; body: string; labels: string[] }): Promise<{ id: string }>
  comment(id: string, body: string): Promise<unknown>
  label(id: string, change: { add?: string[]; remove?: string[] }): Promise<unknown>
  update(id: string, fields: { title?: string; body?: string }): Promise<unknown>
  close(id: string): Promise<unknown>
  /** The next ready issue, leased to this agent; null when none is claimable. */
  claimNext(ttlMs: number): Promise<{ issueId: string; lease: HeldLease } | null>
  acquire(resource: string, ttlMs: number): Promise<HeldLease>
  sync(): Promise<unknown>
}

export interface Target {
  readonly mode: 'embedded' | 'daemon'
  readonly supports: ReadonlySet<OpKind>
  /** Why each unsupported operation is missing, for the report. */
  readonly missing: Partial<Record<OpKind, string>>
  /** Opens the session of agent `agent` (its own persistent actor). */
  session(agent: string): Promise<Session>
  /** Process id whose CPU and memory the run should also report (a daemon), or null. */
  readonly serverPid: number | null
  /** Stops what the target started; waits for it. */
  close(): Promise<void>
}

/** What every target is opened with. */
export interface TargetOptions {
  threads: number
  dirs: BenchDirs
  /** Name of this run's repository and runtime home inside `dirs`. */
  name: string
}

export type OpenTarget = (opts: TargetOptions) => Promise<Target>

/** Every operation a target that can do everything supports. */
export const ALL_OPS: ReadonlySet<OpKind> = new Set<OpKind>([
  'create', 'comment', 'label', 'unlabel', 'update', 'close', 'claim', 'acquire', 'renew', 'release', 'sync',
])
