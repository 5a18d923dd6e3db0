/**
 * What every command action shares: the global flags, the executor (daemon
 * or embedded, opened once per invocation and closed at the end) and the
 * printing of one result or one error with its exit code.
 */
import { readdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { InvalidArgumentError, type Command } from 'commander'
import { CairnError } from '../../protocol/errors.ts'
import { resolveHome } from '../daemon/paths.ts'
import { chooseExecutor, type CallOptions, type Executor } from './executor.ts'
import { EXIT_CLAIM_LAPSED } from './exit-codes.ts'
import { okEnvelope, printError, printResult, shortName, type Human, type Io, type Names, type Warning } from './output.ts'

/** Options of one printed call. */
export interface PrintOptions extends CallOptions {
  /** The human format shows actors: fetch the repository's agent names first (people only). */
  names?: boolean
  /** An exit code for a result that is not an error (e.g. nothing to claim). */
  exit?: (data: never) => number
}

/** Methods that are not an agent's work on a repository: they renew no holds. */
const NO_HEARTBEAT = /^(daemon\.|repo\.doctor$|agent\.heartbeat$)/

export interface Globals { json: boolean; home: string; repo: string; agent?: string; noDaemon: boolean }

export class Cli {
  exitCode = 0
  #executor: Executor | null = null
  /** Warnings of the command in progress (its heartbeat's lapses), printed with its result or error. */
  #warnings: Warning[] = []

  constructor(readonly io: Io, readonly env: NodeJS.ProcessEnv) {}

  globals(cmd: Command): Globals {
    const o = cmd.optsWithGlobals() as { json?: boolean; home?: string; repo?: string; agent?: string; daemon?: boolean }
    const agent = o.agent ?? this.env.CAIRN_AGENT
    return {
      json: o.json === true,
      home: resolveHome(o.home ?? this.env.CAIRN_HOME),
      repo: resolve(o.repo ?? process.cwd()),
      ...(agent ? { agent } : {}),
      noDaemon: o.daemon === false || this.env.CAIRN_NO_DAEMON === '1',
    }
  }

  async executor(cmd: Command): Promise<Executor> {
    const g = this.globals(cmd)
    this.#executor ??= await chooseExecutor({ home: g.home, repo: g.repo, ...(g.agent ? { agent: g.agent } : {}) }, g.noDaemon)
    return this.#executor
  }

  /**
   * Runs one method and prints its result (or error). Its arguments are
   * checked against the method's schema where it runs (the daemon, or the
   * embedded runtime): this process does not load the schemas. Every
   * command of an agent on a repository first renews what the agent holds
   * there (`agent.heartbeat`): a claim lapsed since the agent's last
   * command is reported as a CLAIM_LAPSED warning, and the exit code says so.
   */
  async call(cmd: Command, method: string, args: Record<string, unknown>, human?: Human, opts: PrintOptions = {}): Promise<void> {
    await this.guard(cmd, async () => {
      const exec = await this.executor(cmd)
      // A command on one of the agent's leases answers for that lease itself (a break it learns of is its error).
      const skip = method.startsWith('locks.') && typeof args.resource === 'string' ? args.resource : undefined
      this.#warnings = NO_HEARTBEAT.test(method) ? [] : await this.heartbeat(cmd, exec, skip)
      const data = await exec.call(method, args, opts)
      const json = this.globals(cmd).json
      const names = opts.names && !json ? await this.#names(exec) : shortName
      const warnings = this.#warnings
      this.#warnings = []
      this.exitCode = printResult(this.io, json, data, human, { warnings, names })
      if (opts.exit) this.exitCode = opts.exit(data as never)
      if (this.exitCode === 0 && warnings.some((w) => w.code === 'CLAIM_LAPSED')) this.exitCode = EXIT_CLAIM_LAPSED
    })
  }

  /** Renews the agent's holds; returns the lapses as warnings (a failing heartbeat is not the command's failure). */
  async heartbeat(cmd: Command, exec: Executor, skip?: string): Promise<Warning[]> {
    // No holds anywhere in this home: nothing to renew, no round trip.
    try {
      if (readdirSync(join(this.globals(cmd).home, 'holds')).length === 0) return []
    } catch {
      return []
    }
    try {
      const r = await exec.call<{ lapsed: Warning[] }>('agent.heartbeat', skip === undefined ? {} : { skip })
      return r.lapsed
    } catch {
      return []
    }
  }

  async #names(exec: Executor): Promise<Names> {
    try {
      const list = await exec.call<{ agent: string; actor: string }[]>('agents.list', {})
      const byActor = new Map(list.map((a) => [a.actor, a.agent]))
      return (actor) => byActor.get(actor) ?? shortName(actor)
    } catch {
      return shortName
    }
  }

  print(cmd: Command, data: unknown, human?: Human): void {
    this.exitCode = printResult(this.io, this.globals(cmd).json, data, human)
  }

  fail(cmd: Command | null, err: unknown): void {
    const json = cmd ? this.#jsonOf(cmd) : false
    // A failed command still tells of a lapse it learnt of; its own error's exit code wins.
    const warnings = this.#warnings
    this.#warnings = []
    this.exitCode = printError(this.io, json, err, warnings)
  }

  /**
   * Runs a streaming method until it ends or the user interrupts it
   * (SIGINT/SIGTERM end the stream, not the process): each item is printed
   * as it arrives (`--json`: one envelope per line; else `line(item)`), then
   * the stream's closing answer.
   */
  async stream(cmd: Command, method: string, args: Record<string, unknown>, line: (item: unknown) => string): Promise<void> {
    const json = this.globals(cmd).json
    const stop = new AbortController()
    const onSignal = (): void => stop.abort()
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
    try {
      await this.guard(cmd, async () => {
        const exec = await this.executor(cmd)
        const end = await exec.call<Record<string, unknown>>(method, args, {
          signal: stop.signal,
          onItem: (e) => this.io.out(json ? `${okEnvelope(e)}\n` : `${line(e)}\n`),
        })
        this.print(cmd, { end: true, ...end }, () => '')
      })
    } finally {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  }

  /** Runs `fn`, turning anything it throws into the error output and exit code. */
  async guard(cmd: Command, fn: () => Promise<void>): Promise<void> {
    try {
      await fn()
    } catch (err) {
      this.fail(cmd, err)
    }
  }

  async close(): Promise<void> {
    const e = this.#executor
    this.#executor = null
    await e?.close()
  }

  #jsonOf(cmd: Command): boolean {
    try { return this.globals(cmd).json } catch { return false }
  }
}

/** A flag parser for integers in [min, max] (commander reports the flag by name). */
export function intFlag(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value)
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`must be an integer from ${min} to ${max}`)
    }
    return n
  }
}

/** A flag parser for one of `choices`. */
export function choiceFlag(choices: readonly string[]) {
  return (value: string): string => {
    if (!choices.includes(value)) throw new InvalidArgumentError(`must be one of ${choices.join(', ')}`)
    return value
  }
}

/** Collects a repeatable flag. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value]

export function usage(message: string): CairnError {
  return new CairnError('INVALID_ARGUMENT', message)
}
