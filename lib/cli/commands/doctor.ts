/**
 * `cairn doctor [--fix]`: checks the home (permissions, stale daemon files),
 * then the repository's store through the daemon if one answers, else
 * embedded (doctor never starts a daemon: it may be what is broken).
 *
 * Stale daemon files are removed by `--fix` only while holding the home
 * mutex, which proves no daemon or embedded CLI is using them.
 */
import { existsSync, rmSync, statSync, chmodSync } from 'node:fs'
import { Command } from 'commander'
import { CairnError } from '../../../protocol/errors.ts'
import { probe } from '../../daemon/client.ts'
import { isNameHeld, tryLockName } from '../../daemon/home-mutex.ts'
import { pidAlive, readLockFile, removeLockFile } from '../../daemon/lock-file.ts'
import type { DoctorCheck } from '../../daemon/operations/index.ts'
import { daemonPaths, type DaemonPaths } from '../../daemon/paths.ts'
import { daemonExecutor, embeddedExecutor } from '../executor.ts'
import { lmdbFix, unfixedMessage } from '../../kernel/store/lmdb-fix.ts'
import type { Cli } from '../context.ts'

/** Exit code of a doctor run that found a problem it did not fix (not an error code: the run itself worked). */
export const EXIT_UNHEALTHY = 30

async function homeChecks(paths: DaemonPaths, fix: boolean): Promise<{ checks: DoctorCheck[]; live: boolean; silent?: boolean }> {
  const checks: DoctorCheck[] = []
  if (!existsSync(paths.home)) {
    checks.push({ name: 'home', ok: true, detail: `${paths.home} does not exist yet (created on first use)` })
    return { checks, live: false }
  }
  const mode = statSync(paths.home).mode & 0o777
  if (mode === 0o700) checks.push({ name: 'home', ok: true, detail: `${paths.home} is 0700` })
  else {
    if (fix) chmodSync(paths.home, 0o700)
    checks.push({ name: 'home', ok: false, detail: `${paths.home} is ${mode.toString(8)}, should be 700`, ...(fix ? { fixed: true } : {}) })
  }
  const live = await probe(paths.socket, 2000)
  const lock = readLockFile(paths.lock)
  const files = existsSync(paths.socket) || existsSync(paths.lock)
  if (live) {
    const agrees = lock?.pid === live.pid
    checks.push({ name: 'daemon', ok: agrees, detail: `pid ${live.pid} answers (protocol ${live.protocol})${agrees ? '' : `; the lock file names pid ${lock?.pid ?? 'none'}`}` })
  } else if (files) {
    if (lock !== null && pidAlive(lock.pid) && await isNameHeld(paths.mutexName)) {
      // Not stale: a live process holds the home and does not answer (stopped or hung).
      checks.push({ name: 'daemon', ok: false, detail: `pid ${lock.pid} holds the home but does not answer (stopped or hung): end it with \`cairn daemon stop --force\`` })
      return { checks, live: false, silent: true }
    }
    let fixed = false
    if (fix) {
      const mutex = await tryLockName(paths.mutexName)
      if (mutex) {
        try {
          rmSync(paths.socket, { force: true })
          removeLockFile(paths.lock)
          fixed = true
        } finally {
          await mutex.release()
        }
      }
    }
    checks.push({ name: 'daemon-files', ok: false, detail: `stale daemon files (lock names pid ${lock?.pid ?? 'unknown'}, nothing answers on the socket)`, ...(fix ? { fixed } : {}) })
  } else {
    checks.push({ name: 'daemon', ok: true, detail: 'no daemon running; none left stale files' })
  }
  return { checks, live: live !== null }
}

/** Whether this install's lmdb carries LMDB's fix for openers racing commits (scripts/patch-lmdb.mjs). */
function libraryCheck(): DoctorCheck {
  const lib = lmdbFix()
  if (lib.fixed) return { name: 'store-library', ok: true, detail: `lmdb ${lib.version} built with LMDB's fix ITS#9496` }
  return { name: 'store-library', ok: false, detail: unfixedMessage(lib) }
}

export function doctorCommand(cli: Cli): Command {
  return new Command('doctor').description('check the home, stale daemon files and the repository store (--fix repairs what it can)')
    .option('--fix', 'remove stale daemon files, tighten the home, drain the outbox into the git WAL, rebuild a damaged store from the git WAL')
    .action(async (o: { fix?: boolean }, cmd: Command) => {
      await cli.guard(cmd, async () => {
        const g = cli.globals(cmd)
        const paths = daemonPaths(g.home)
        const fix = o.fix === true
        const { checks, live, silent } = await homeChecks(paths, fix)
        if (silent) {
          checks.push(libraryCheck())
          // The store cannot be opened while that daemon holds the home.
          cli.print(cmd, { healthy: false, mode: 'none', checks }, (() => [
            ...checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(14)} ${c.detail}`),
            'problems found: the store was not checked',
          ].join('\n')) as never)
          cli.exitCode = EXIT_UNHEALTHY
          return
        }
        const target = { home: g.home, repo: g.repo, ...(g.agent ? { agent: g.agent } : {}) }
        const storeCheck = async (): Promise<DoctorCheck[]> => {
          const exec = live && !g.noDaemon ? await daemonExecutor(target) : await embeddedExecutor(target)
          try {
            return (await exec.call<{ checks: DoctorCheck[] }>('repo.doctor', { fix })).checks
          } catch (err) {
            const e = CairnError.from(err)
            // Outside a repository there is no store to check; anything else is a finding.
            return [e.code === 'NOT_FOUND'
              ? { name: 'store', ok: true, detail: `no repository store here (${e.message})` }
              : { name: 'store', ok: false, detail: `${e.code}: ${e.message}`, code: e.code }]
          } finally {
            mode = exec.mode
            await exec.close()
          }
        }
        // The store as the runtime sees it, then every value decoded (damage inside a value shows only when it is read).
        const allChecks = async (): Promise<DoctorCheck[]> => {
          const got = await storeCheck()
          if (got.some((c) => c.code === 'STORE_CORRUPT')) return got
          // Loaded here: the repair path brings LMDB and nodegit, which no other command needs in this process.
          const { spaceCheck, valuesCheck } = await import('./doctor-repair.ts')
          const values = await valuesCheck(g.repo)
          if (values && !values.ok) return [...got, values]
          const space = await spaceCheck(g.repo)
          return [...got, ...(values ? [values] : []), ...(space ? [space] : [])]
        }
        let mode = 'embedded'
        let found = await allChecks()
        if (fix && found.some((c) => c.code === 'STORE_CORRUPT')) {
          const { repairRepoStore } = await import('./doctor-repair.ts')
          const rebuilt = await repairRepoStore(g.repo)
          found = rebuilt.fixed ? [rebuilt, ...await allChecks()] : [...found, rebuilt]
        }
        checks.push(...found, libraryCheck())
        const healthy = checks.every((c) => c.ok || c.fixed === true)
        cli.print(cmd, { healthy, mode, checks }, (() => [
          ...checks.map((c) => `${c.ok ? 'ok  ' : c.fixed ? 'FIXED' : 'FAIL'}  ${c.name.padEnd(14)} ${c.detail}`),
          healthy ? 'healthy' : 'problems found (run `cairn doctor --fix`)',
        ].join('\n')) as never)
        if (!healthy) cli.exitCode = EXIT_UNHEALTHY
      })
    })
}
