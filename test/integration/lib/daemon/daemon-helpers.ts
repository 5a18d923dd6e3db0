/**
 * Shared by the daemon and CLI tests: raw protocol connections, a daemon in
 * this process or in its own, and CLI invocations in-process (fast, for the
 * command suite) or as real `cairn` processes (for auto-spawn and faults).
 * Every wait is bounded; every daemon a test starts is stopped (or
 * SIGKILLed, by pid) in teardown.
 */
import { spawn } from 'node:child_process'
import { connect as netConnect, type Socket } from 'node:net'
import { decode, encode } from '../../../../protocol/codec.ts'
import { PROTOCOL_VERSION, type Envelope } from '../../../../protocol/envelope.ts'
import { FrameDecoder, frame } from '../../../../protocol/framing.ts'
import { probe } from '../../../../lib/daemon/client.ts'
import { cairnCommand } from '../../../../lib/daemon/spawn.ts'
import { daemonPaths } from '../../../../lib/daemon/paths.ts'
import { startDaemon, type Daemon, type DaemonOptions } from '../../../../lib/daemon/server.ts'
import { SOCKET_PROTOCOL } from '../../../../lib/daemon/wire.ts'
import { runCli } from '../../../../lib/cli/main.ts'
import { eventually } from '../../../helpers/eventually.ts'

export { eventually }

// Daemons outlive the CLI that starts them; keep tap's coverage hooks out of them.
delete process.env.NODE_V8_COVERAGE

/** The `cairn` command from the sources: node arguments, with tsx's loader. */
export const CAIRN_COMMAND = cairnCommand()
export const TSX_IMPORT = CAIRN_COMMAND[0]!
export const CAIRN = CAIRN_COMMAND[1]!

type Teardown = { teardown(fn: () => unknown): void }

/** A daemon in this process, stopped in teardown. */
export async function inProcessDaemon(t: Teardown, opts: DaemonOptions): Promise<Daemon> {
  const d = await startDaemon({ threads: 1, ...opts })
  t.teardown(() => d.stop())
  return d
}

/** Envelope helpers for raw connections. */
export const env = (id: number, type: string, body: unknown = {}): Envelope => ({ v: PROTOCOL_VERSION, id, type, from: 'test', to: 'daemon', body })
export const framed = (e: unknown): Uint8Array => frame(encode(e as Envelope))
export const hello = (id = 1, protocol: unknown = SOCKET_PROTOCOL): Uint8Array => framed(env(id, 'hello', { protocol }))

/** A raw socket that collects decoded frames; waits are bounded. */
export class Raw {
  readonly sock: Socket
  readonly frames: Envelope[] = []
  closed = false
  readonly #decoder = new FrameDecoder()
  #waiters = new Set<() => void>()

  private constructor(sock: Socket) {
    this.sock = sock
    sock.on('data', (chunk: Buffer) => {
      for (const f of this.#decoder.push(chunk)) this.frames.push(decode(f))
      this.#notify()
    })
    sock.on('error', () => undefined)
    sock.on('close', () => { this.closed = true; this.#notify() })
  }

  static open(socket: string): Promise<Raw> {
    return new Promise((resolve, reject) => {
      const s = netConnect(socket)
      s.once('connect', () => resolve(new Raw(s)))
      s.once('error', reject)
    })
  }

  write(bytes: Uint8Array): void { this.sock.write(bytes) }

  #notify(): void { for (const w of [...this.#waiters]) w() }

  until<T>(what: string, pick: () => T | undefined, timeoutMs = 10_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const v = pick()
        if (v !== undefined) { done(); resolve(v) }
      }
      const timer = setTimeout(() => { done(); reject(new Error(`timed out waiting for ${what}; frames ${JSON.stringify(this.frames.slice(-3))}`)) }, timeoutMs)
      const done = (): void => { clearTimeout(timer); this.#waiters.delete(check) }
      this.#waiters.add(check)
      check()
    })
  }

  reply(corr: number): Promise<Envelope> {
    return this.until(`reply ${corr}`, () => this.frames.find((f) => f.type === 'reply' && f.corr === corr))
  }

  errorFrame(): Promise<Envelope> {
    return this.until('an error frame', () => this.frames.find((f) => f.type === 'error'))
  }

  whenClosed(): Promise<true> {
    return this.until('close', () => (this.closed ? true : undefined))
  }

  close(): void { this.sock.destroy() }
}

export interface CliResult { code: number; stdout: string; stderr: string }

/** One `cairn` invocation in this process (commander, executor, output: all real). */
export async function cli(args: string[], environment: NodeJS.ProcessEnv): Promise<CliResult> {
  let stdout = ''
  let stderr = ''
  const code = await runCli(args, { out: (s) => { stdout += s }, err: (s) => { stderr += s }, isTTY: false }, environment)
  return { code, stdout, stderr }
}

/** Parses the single JSON envelope a --json command printed. */
export function envelope(r: CliResult): { ok: boolean; data?: unknown; error?: { code: string; message: string } } {
  const lines = r.stdout.trim().split('\n')
  if (lines.length !== 1) throw new Error(`expected one line of JSON, got ${JSON.stringify(r.stdout)} (stderr ${r.stderr})`)
  return JSON.parse(lines[0]!)
}

/** One real `cairn` process (lib/cli/bin.ts), bounded by `timeoutMs`. */
export function cliProcess(args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<CliResult & { signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...CAIRN_COMMAND, ...args], { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s })
    child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s })
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000)
    child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code: code ?? -1, signal, stdout, stderr }) })
  })
}

/** Stops whatever daemon serves `home` (graceful, else SIGKILL by its pid); for teardown. */
export async function stopDaemonOf(home: string): Promise<void> {
  const socket = daemonPaths(home).socket
  const live = await probe(socket, 2000)
  if (!live) return
  await cli(['daemon', 'stop', '--home', home], process.env).catch(() => undefined)
  if (await probe(socket, 1000)) {
    try { process.kill(live.pid, 'SIGKILL') } catch { /* already gone */ }
  }
  // The socket goes first; the process may still be flushing into the repository. A caller
  // removing the repository right after must wait for the process itself to be gone.
  await eventually(() => !alive(live.pid), 10_000).catch(() => {
    try { process.kill(live.pid, 'SIGKILL') } catch { /* already gone */ }
  })
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** VmRSS of a process, in bytes (Linux). */
export async function rssOf(pid: number): Promise<number> {
  const { readFileSync } = await import('node:fs')
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) * 1024 : NaN
}

export interface DaemonProcess {
  pid: number
  /** The JSON envelope `daemon start --foreground --json` printed when serving. */
  ready: Promise<{ ok: boolean; data?: { pid: number; socket: string; replacedStale: boolean }; error?: { code: string; message: string } }>
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  stderr(): string
  kill(signal: NodeJS.Signals): void
}

/** `cairn daemon start --foreground --json` as its own process; SIGKILLed in teardown if still running. */
export function daemonProcess(t: Teardown, home: string, flags: string[] = []): DaemonProcess {
  const child = spawn(process.execPath, [...CAIRN_COMMAND, 'daemon', 'start', '--foreground', '--json', '--home', home, ...flags], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => { exit = { code, signal }; resolve(exit) })
  })
  child.stderr.setEncoding('utf8').on('data', (s: string) => { err += s })
  const ready = new Promise<never>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`daemon did not report within 30 s; stderr ${err}`)), 30_000)
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s
      const nl = out.indexOf('\n')
      if (nl >= 0) { clearTimeout(timer); resolve(JSON.parse(out.slice(0, nl)) as never) }
    })
    void exited.then(() => { if (!out.includes('\n')) { clearTimeout(timer); reject(new Error(`daemon exited ${JSON.stringify(exit)} before reporting; stderr ${err}`)) } })
  })
  ready.catch(() => undefined)
  t.teardown(async () => {
    if (exit === null) child.kill('SIGKILL')
    await exited
  })
  return { pid: child.pid ?? -1, ready, exited, stderr: () => err, kill: (s) => { if (exit === null) child.kill(s) } }
}

/** `p`, or `fallback` after `ms`; the timer never outlives the race. */
export async function within<T, F>(p: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([p, new Promise<F>((resolve) => { timer = setTimeout(() => resolve(fallback), ms) })])
  } finally {
    clearTimeout(timer)
  }
}
