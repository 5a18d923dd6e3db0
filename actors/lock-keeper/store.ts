/**
 * Where leases live in the repository's LMDB environment. The LockKeeper
 * is their only writer; the RepoWorker reads them (inside its own write
 * transaction, so it sees exactly the grants committed before its batch)
 * to enforce the policy on every write.
 */
import type { Database, RootDatabase } from 'lmdb'
import type { Lease } from './leases.ts'
import type { LeasePolicy } from './policy.ts'

export interface LeaseDbs {
  leases: Database<Lease, string>
  tokens: Database<number, string>
  /** 'policy' -> LeasePolicy, 'graceMs' -> number */
  config: Database<LeasePolicy | number, string>
}

export function openLeaseDbs(env: RootDatabase): LeaseDbs {
  return {
    leases: env.openDB({ name: 'leases' }) as unknown as Database<Lease, string>,
    tokens: env.openDB({ name: 'lease-tokens' }) as unknown as Database<number, string>,
    config: env.openDB({ name: 'lease-config' }) as unknown as Database<LeasePolicy | number, string>,
  }
}

export const POLICY_KEY = 'policy'
export const GRACE_KEY = 'graceMs'

export function readPolicy(dbs: LeaseDbs): LeasePolicy {
  return (dbs.config.get(POLICY_KEY) as LeasePolicy | undefined) ?? 'off'
}

/** The repository's grace for new leases, or `fallback` when never set. */
export function readGrace(dbs: LeaseDbs, fallback: number): number {
  const v = dbs.config.get(GRACE_KEY)
  return typeof v === 'number' ? v : fallback
}

/** Leases that could cover `key`: every repo: lease plus the one on `key` itself (issue writes). */
export function leasesCovering(dbs: LeaseDbs, key: string): Lease[] {
  const out: Lease[] = []
  for (const { value } of dbs.leases.getRange({ start: 'repo:', end: 'repo;' })) out.push(value)
  const own = dbs.leases.get(key)
  if (own) out.push(own)
  return out
}
