/**
 * A repository whose store holds 12 issues with comments (84 events, all
 * drained into the git WAL), copied aside so each test can put the store
 * back and damage it its own way; and the damage tools.
 */
import { cpSync, readFileSync, rmSync, openSync, writeSync, closeSync } from 'node:fs'
import { join } from 'node:path'
import { createRuntime } from '../../lib/index.ts'
import { PageFile, subDbRecord, F_SUBDATA, PAGE_HEADER } from '../../lib/kernel/store/lmdb-pages.ts'
import { sandbox, type Sandbox } from './tmp-repos.ts'
import { walActors, walEventIds } from './git-wal.ts'
import { cli, cliProcess } from '../integration/lib/daemon/daemon-helpers.ts'

export interface DamagedRepo {
  box: Sandbox
  repo: string
  /** `<repo>/.git/cairn` */
  store: string
  /** Every event id in the git WAL, sorted. */
  drained: string[]
  /** The agent's actor id. */
  actor: string
  /** Puts the pristine store back. */
  restore(): void
  /** The real `cairn` in its own process (--no-daemon, --json, agent a): what must survive the damage. */
  cairn(...args: string[]): ReturnType<typeof cliProcess>
  /** The same CLI code in this process (faster), once the store is known to be refused without a crash. */
  cairnHere(...args: string[]): ReturnType<typeof cli>
  /** Overwrites the first bytes of a value of database `name` (whose key matches) with 0xc1, the one byte msgpack never uses. */
  flipValue(name: string, match?: (key: Buffer) => boolean): void
}

export async function damagedRepo(): Promise<DamagedRepo> {
  const box = sandbox()
  const repo = box.repo('damaged')
  const store = join(repo, '.git', 'cairn')
  const pristine = join(box.dir, 'pristine-store')
  const rt = await createRuntime({ home: box.home, threads: 1 })
  const r = await rt.repo(repo, { agent: 'a' })
  for (let i = 0; i < 12; i++) {
    const { id } = await r.issues.create({ title: `issue ${i}`, body: 'x'.repeat(200 * i) })
    for (let c = 0; c < 6; c++) await r.issues.comment(id, `comment ${c} on ${i} ${'y'.repeat(300)}`)
  }
  await r.wal.flush()
  const actor = r.actor
  await rt.stop()
  const drained = walActors(repo).flatMap((a) => walEventIds(repo, a)).sort()
  cpSync(store, pristine, { recursive: true })
  const env = { ...process.env, CAIRN_AGENT: 'a' }
  return {
    box, repo, store, drained, actor,
    restore: () => {
      rmSync(store, { recursive: true, force: true })
      cpSync(pristine, store, { recursive: true })
    },
    cairn: (...args) => cliProcess(['--no-daemon', '--json', '--home', box.home, '-C', repo, ...args], { cwd: repo, env, timeoutMs: 120_000 }),
    cairnHere: (...args) => cli(['--no-daemon', '--json', '--home', box.home, '-C', repo, ...args], env),
    flipValue: (name, match) => {
      const fd = openSync(join(store, 'data.mdb'), 'r+')
      writeSync(fd, Buffer.from([0xc1, 0xc1, 0xc1, 0xc1]), 0, 4, valueOffset(store, name, match ?? (() => true)))
      closeSync(fd)
    },
  }
}

/** The file offset of the first value of database `name` (newest snapshot) whose key matches, of more than 8 bytes. */
function valueOffset(store: string, name: string, match: (key: Buffer) => boolean): number {
  const file = new PageFile(join(store, 'data.mdb'))
  try {
    const meta = file.current
    const main = file.page(meta.main.root, meta.lastPage)
    const node = main.nodes.find((n) => n.key.toString('latin1') === `${name}\0` && (n.flags & F_SUBDATA) !== 0)!
    const pages = [subDbRecord(node).root]
    while (pages.length > 0) {
      const page = file.page(pages.shift()!, meta.lastPage)
      if (page.nodes[0]!.child !== 0) { pages.push(...page.nodes.map((n) => n.child)); continue }
      const hit = page.nodes.find((n) => n.data !== null && n.data.length > 8 && match(n.key))
      if (!hit) continue
      const bytes = readFileSync(join(store, 'data.mdb')).subarray(page.pgno * file.pageSize, (page.pgno + 1) * file.pageSize)
      return page.pgno * file.pageSize + bytes.indexOf(hit.data!, PAGE_HEADER)
    }
    throw new Error(`no value of ${name} matches`)
  } finally {
    file.close()
  }
}
