/**
 * The fixed choices of operation arguments, as plain constants: the
 * argument schemas (zod) are built from them, and so are the CLI's flags,
 * which must not load zod (it costs a one-shot command ~90 ms of CPU; the
 * daemon, which loads it once, checks the arguments).
 */
export const ISSUE_STATES = ['open', 'closed', 'all'] as const
export const DEP_TYPES = ['blocks', 'depends_on', 'related_to'] as const
export const LEASE_POLICIES = ['off', 'warn', 'require'] as const
