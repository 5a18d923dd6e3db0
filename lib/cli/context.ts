/**
 * What every command action shares: the global flags, the executor (daemon
 * or embedded, opened once per invocation and closed at the end) and the
 * printing of one result or one error with its exit code.
 */
import { resolve } from 'node:path'
import { InvalidArgumentError, type Command } from 'commander'
import { CairnError } from '../../protocol/errors.ts'
import { resolveHome } from '../daemon/paths.ts'
import { chooseExecutor, type CallOptions, type Executor } from './executor.ts'
import { printError, printResult, type Human, type Io } from './output.ts'

export interface Globals { json: boolean; home: string; repo: string; agent?: string; noDaemon: boolean }

export class Cli {
  exitCode = 0
  #executor: Executor | null = null

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
   * embedded runtime): this process does not load the schemas.
   */
  async call(cmd: Command, method: string, args: Record<string, unknown>, human?: Human, opts?: CallOptions): Promise<void> {
    await this.guard(cmd, async () => {
      const exec = await this.executor(cmd)
      this.print(cmd, await exec.call(method, args, opts), human)
    })
  }

  print(cmd: Command, data: unknown, human?: Human): void {
    this.exitCode = printResult(this.io, this.globals(cmd).json, data, human)
  }

  fail(cmd: Command | null, err: unknown): void {
    const json = cmd ? this.#jsonOf(cmd) : false
    this.exitCode = printError(this.io, json, err)
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
