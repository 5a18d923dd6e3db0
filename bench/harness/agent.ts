/**
 * One simulated agent's step: turn the operation drawn from the mix into a
 * call on the shared board, and keep the little state the next calls need.
 *
 * Agents share one board (the open issues any of them created, with the
 * labels each carries), as a team on one repository does. An operation that
 * has nothing to act on is replaced by the one that creates what it needs,
 * and recorded under the kind actually run: comment/label/unlabel/update/
 * close with no open issue become create, unlabel with no label on the
 * chosen issue becomes label, renew/release with no lease held become
 * acquire. Leases are taken without auto-renew (renewal is an operation of
 * the mix) and with a TTL longer than any run, so none lapses mid-run.
 */
import type { OpKind } from './mix.ts'
import type { HeldLease, Session } from './target.ts'

/** TTL of every lease the harness takes: longer than a run's time bound. */
export const LEASE_TTL_MS = 10 * 60_000
const COMMENT_CHARS = 120

/** The open issues of the run and the labels the harness knows each carries. */
export class Board {
  readonly open: string[] = []
  readonly labels = new Map<string, string[]>()

  add(id: string, labels: string[]): void {
    this.open.push(id)
    this.labels.set(id, [...labels])
  }

  /** A random open issue, or null. */
  pick(rand: () => number): string | null {
    if (this.open.length === 0) return null
    return this.open[Math.floor(rand() * this.open.length)] as string
  }

  /** Takes a random open issue off the board (it is about to be closed); null when none. */
  take(rand: () => number): string | null {
    if (this.open.length === 0) return null
    const i = Math.floor(rand() * this.open.length)
    const id = this.open[i] as string
    this.open[i] = this.open[this.open.length - 1] as string
    this.open.pop()
    return id
  }
}

export interface AgentState {
  session: Session
  rand: () => number
  leases: HeldLease[]
  /** Numbers the agent's texts and path leases. */
  serial: number
}

/** What a step ran and its promise (rejecting with the call's error). */
export interface Step {
  kind: OpKind
  done: Promise<unknown>
}

function text(tag: string, chars: number): string {
  const head = `${tag} `
  return head.length >= chars ? head.slice(0, chars) : head + '.'.repeat(chars - head.length)
}

/** Removes and returns a random held lease. */
function takeLease(a: AgentState): HeldLease | null {
  if (a.leases.length === 0) return null
  const i = Math.floor(a.rand() * a.leases.length)
  const [lease] = a.leases.splice(i, 1)
  return lease ?? null
}

/**
 * Starts operation `want` for agent `a` on `board` (synchronously picks its
 * target, so two agents never close the same issue) and says what it ran.
 * @example const { kind, done } = step(agent, board, 'comment'); await done
 */
export function step(a: AgentState, board: Board, want: OpKind): Step {
  const s = a.session
  const n = a.serial++
  const tag = `${s.agent}-${n}`
  const create = (): Step => ({
    kind: 'create',
    done: s.create({ title: text(`Issue ${tag}`, 48), body: text(`body ${tag}`, COMMENT_CHARS * 2), labels: ['bench', 'triage'] })
      .then((issue) => board.add(issue.id, ['bench', 'triage'])),
  })
  const acquire = (): Step => ({
    kind: 'acquire',
    done: s.acquire(`path:${s.agent}/file-${n}`, LEASE_TTL_MS).then((lease) => { a.leases.push(lease) }),
  })
  switch (want) {
    case 'create': return create()
    case 'comment': case 'label': case 'unlabel': case 'update': {
      const id = board.pick(a.rand)
      if (id === null) return create()
      const labels = board.labels.get(id) ?? []
      if (want === 'comment') return { kind: want, done: s.comment(id, text(`c${tag}`, COMMENT_CHARS)) }
      if (want === 'update') return { kind: want, done: s.update(id, { title: text(`Issue ${tag} (edited)`, 48) }) }
      if (want === 'unlabel' && labels.length > 0) {
        const label = labels.splice(Math.floor(a.rand() * labels.length), 1)[0] as string
        return { kind: 'unlabel', done: s.label(id, { remove: [label] }) }
      }
      const label = `area-${n % 16}`
      if (!labels.includes(label)) labels.push(label)
      return { kind: 'label', done: s.label(id, { add: [label] }) }
    }
    case 'close': {
      const id = board.take(a.rand)
      if (id === null) return create()
      board.labels.delete(id)
      return { kind: 'close', done: s.close(id) }
    }
    case 'claim':
      return {
        kind: 'claim',
        done: s.claimNext(LEASE_TTL_MS).then((won) => { if (won) a.leases.push(won.lease) }),
      }
    case 'acquire': return acquire()
    case 'renew': {
      const lease = takeLease(a)
      if (lease === null) return acquire()
      a.leases.push(lease)
      return { kind: 'renew', done: lease.renew(LEASE_TTL_MS) }
    }
    case 'release': {
      const lease = takeLease(a)
      if (lease === null) return acquire()
      return { kind: 'release', done: lease.release() }
    }
    case 'sync': return { kind: 'sync', done: s.sync() }
  }
}

/** Releases every lease an agent still holds (after the timed part; failures ignored). */
export async function releaseAll(a: AgentState): Promise<void> {
  const leases = a.leases.splice(0)
  await Promise.all(leases.map((l) => l.release().catch(() => undefined)))
}
