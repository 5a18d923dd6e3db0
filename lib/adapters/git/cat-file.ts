/**
 * One long-lived `git cat-file --batch-command --buffer` process (plain
 * `--batch` before git 2.36): objects by name, many per request, answered
 * in order over one pipe. Reading thousands of small
 * objects this way costs one process start (tens of ms in a large process:
 * fork copies its page tables) instead of one per call.
 *
 * Requests run one at a time (each writes its names, then reads exactly
 * that many answers). A request past `maxBytes`, a dead process or close()
 * fail the request in flight; the next request starts a new process.
 *
 * @example
 *   const cat = new CatFile(place)
 *   const [tree] = await cat.read(['HEAD^{tree}'])
 *   await cat.close()
 */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { CairnError } from '../../../protocol/errors.ts'
import { GIT_BIN, transportEnv } from './git-cli.ts'
import type { GitPlace } from './cli-remote.ts'

/** An object as cat-file answered it: null when it does not exist. */
export type CatObject = { type: string; bytes: Buffer } | null

interface Pending { count: number; maxBytes: number; out: CatObject[]; resolve(v: CatObject[]): void; reject(e: Error): void }

const NEWLINE = 10

let batchCommand: Promise<boolean> | null = null

/** Whether this git has `cat-file --batch-command` with `flush` (2.36+); asked once per process. */
export function batchCommandSupported(): Promise<boolean> {
  batchCommand ??= new Promise((resolve) => {
    execFile(GIT_BIN, ['version'], { env: transportEnv(), timeout: 10_000 }, (err, stdout) => {
      const m = /git version (\d+)\.(\d+)/.exec(String(stdout))
      resolve(!err && m !== null && (Number(m[1]) > 2 || (Number(m[1]) === 2 && Number(m[2]) >= 36)))
    })
  })
  return batchCommand
}

export class CatFile {
  readonly #place: GitPlace
  #child: ChildProcessWithoutNullStreams | null = null
  #buf: Buffer = Buffer.alloc(0)
  #parts: Buffer[] = []
  #partBytes = 0
  /** Bytes #buf must hold before the answer being read is complete. */
  #need = 0
  #pending: Pending | null = null
  #queue: Promise<unknown> = Promise.resolve()
  #stderr = ''
  #buffered = false

  constructor(place: GitPlace) {
    this.#place = place
  }

  /** The objects named by `names` (ids or any revision syntax without newlines), in order. */
  read(names: string[], maxBytes = 256 * 1024 * 1024): Promise<CatObject[]> {
    const run = this.#queue.then(() => this.#read(names, maxBytes))
    this.#queue = run.catch(() => undefined)
    return run
  }

  #start(buffered: boolean): ChildProcessWithoutNullStreams {
    // Buffered (`--batch-command --buffer`, git 2.36+): one write per request instead of one per object.
    const mode = buffered ? ['--batch-command', '--buffer'] : ['--batch']
    this.#buffered = buffered
    const child = spawn(GIT_BIN, [`--git-dir=${this.#place.gitDir}`, 'cat-file', ...mode], {
      cwd: this.#place.cwd, env: transportEnv(), stdio: ['pipe', 'pipe', 'pipe'],
    })
    this.#stderr = ''
    this.#buf = Buffer.alloc(0)
    this.#parts = []
    this.#partBytes = 0
    this.#need = 0
    child.stdin.on('error', () => undefined)
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (s: string) => { this.#stderr = (this.#stderr + s).slice(-4096) })
    child.stdout.on('data', (b: Buffer) => {
      // Chunks of a large object are joined once it is complete, not on every read.
      this.#parts.push(b)
      this.#partBytes += b.length
      if (this.#buf.length + this.#partBytes < this.#need) return
      this.#buf = Buffer.concat([this.#buf, ...this.#parts])
      this.#parts = []
      this.#partBytes = 0
      this.#drain()
    })
    const gone = (why: string): void => {
      if (this.#child === child) this.#child = null
      this.#fail(new CairnError('INTERNAL', `git cat-file --batch ${why}${this.#stderr ? `: ${this.#stderr.trim()}` : ''}`))
    }
    child.on('error', (err) => gone(`could not run: ${err.message}`))
    child.on('exit', (code, signal) => gone(`exited (${code ?? signal})`))
    this.#child = child
    return child
  }

  async #read(names: string[], maxBytes: number): Promise<CatObject[]> {
    if (names.length === 0) return []
    if (names.some((n) => n.includes('\n') || n === '')) throw new CairnError('INVALID_ARGUMENT', 'object names must be non-empty and hold no newline')
    const child = this.#child ?? this.#start(await batchCommandSupported())
    return new Promise<CatObject[]>((resolve, reject) => {
      this.#pending = { count: names.length, maxBytes, out: [], resolve, reject }
      child.stdin.write(this.#buffered ? `${names.map((n) => `contents ${n}`).join('\n')}\nflush\n` : `${names.join('\n')}\n`)
    })
  }

  /** Parses complete answers from the buffer into the request in flight. */
  #drain(): void {
    const p = this.#pending
    if (!p) return
    let buf = this.#buf
    while (p.out.length < p.count) {
      const nl = buf.indexOf(NEWLINE)
      if (nl < 0) break
      const header = buf.toString('latin1', 0, nl).split(' ')
      if (header[1] === 'missing' || header[1] === 'ambiguous') {
        p.out.push(null)
        buf = buf.subarray(nl + 1)
        continue
      }
      const size = Number(header[2])
      if (header.length !== 3 || !Number.isSafeInteger(size) || size < 0) {
        this.#fail(new CairnError('INTERNAL', `git cat-file --batch answered an unexpected header: ${header.join(' ').slice(0, 120)}`))
        this.#kill()
        return
      }
      if (size > p.maxBytes) {
        this.#fail(new CairnError('INVALID_FORMAT', `an object of ${size} bytes is larger than the ${p.maxBytes} bytes allowed here`, { size }))
        this.#kill()
        return
      }
      if (buf.length < nl + 1 + size + 1) {
        this.#need = nl + 1 + size + 1
        break
      }
      this.#need = 0
      p.out.push({ type: header[1] as string, bytes: Buffer.from(buf.subarray(nl + 1, nl + 1 + size)) })
      p.maxBytes -= size
      buf = buf.subarray(nl + 1 + size + 1)
    }
    this.#buf = buf
    if (p.out.length === p.count) {
      this.#pending = null
      p.resolve(p.out)
    }
  }

  #fail(err: Error): void {
    const p = this.#pending
    this.#pending = null
    p?.reject(err)
  }

  #kill(): void {
    const child = this.#child
    this.#child = null
    child?.kill('SIGKILL')
  }

  /** Ends the process once the request in flight is answered. */
  async close(): Promise<void> {
    await this.#queue
    const child = this.#child
    this.#child = null
    if (!child || child.exitCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.stdin.end()
    const timer = setTimeout(() => child.kill('SIGKILL'), 2_000)
    await exited
    clearTimeout(timer)
  }
}
