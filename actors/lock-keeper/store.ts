/**
 * Where the lease table lives in the repository's LMDB environment. Every
 * runtime and process that opens the repository shares it; each changes it
 * only through its store's write chain (lib/kernel/store/write-chain.ts),
 * so a decision made against a table another writer changed meanwhile is
 * refused and made again (ledger.ts). Only the LockKeeper opens these
 * databases; the RepoWorker reaches leases through its LeaseGate port.
 */
import type { Database, RootDatabase } from 'lmdb'
import type { LeaseBreak } from '../../protocol/messages.ts'
import type { LeasePolicy } from '../../protocol/results.ts'
import type { Lease } from './leases.ts'

export interface LeaseDbs {
  /** resource key -> its current lease, live or lapsed (a lapsed one is replaced by the next grant). */
  leases: Database<Lease, string>
  /** resource key -> highest token granted or burned; never lowered. */
  tokens: Database<number, string>
  /** 'policy' -> LeasePolicy, 'graceMs' -> number */
  config: Database<LeasePolicy | number, string>
  /** [resource key, broken token] -> who broke the lease, when and why. */
  breaks: Database<LeaseBreak, [string, number]>
}

export function openLeaseDbs(env: RootDatabase): LeaseDbs {
  return {
    leases: env.openDB({ name: 'leases' }) as unknown as Database<Lease, string>,
    tokens: env.openDB({ name: 'lease-tokens' }) as unknown as Database<number, string>,
    config: env.openDB({ name: 'lease-config' }) as unknown as Database<LeasePolicy | number, string>,
    breaks: env.openDB({ name: 'lease-breaks' }) as unknown as Database<LeaseBreak, [string, number]>,
  }
}

export const POLICY_KEY = 'policy'
export const GRACE_KEY = 'graceMs'
