import { CairnError } from '../../../protocol/errors.ts'
import { gitErrno } from './nodegit-api.ts'

/** Wraps an unexpected libgit2 failure, keeping its message and code for diagnosis. */
export function gitFailure(err: unknown, doing: string): CairnError {
  if (err instanceof CairnError) return err
  const message = err instanceof Error ? err.message : String(err)
  return new CairnError('INTERNAL', `git: ${doing}: ${message}`, { gitErrno: gitErrno(err) ?? null })
}

