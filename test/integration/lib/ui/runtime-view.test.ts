/**
 * The board's runtime view shows the Supervisor's own account: each actor's
 * requests handled and how long it has been open (runtime.actors()), and the
 * supervision events the diagnostics channels do not carry (a repository
 * closed, moved), heard through runtime.watch(). Real runtime, real board.
 */
import t from 'tap'
import { createRuntime } from '../../../../lib/index.ts'
import { sandbox } from '../../../helpers/tmp-repos.ts'
import { eventually } from '../../../helpers/eventually.ts'

t.test('/api/runtime: actors carry handled and openSince; a close and a move appear as events', async (t) => {
  const dir = sandbox()
  t.teardown(() => dir.cleanup())
  const path = dir.repo('r')
  const runtime = await createRuntime({ home: dir.home, threads: 2 })
  t.teardown(() => runtime.stop())
  const { startBoard } = await import('../../../../lib/ui/server.ts')
  const board = await startBoard({ home: dir.home, runtime, port: 0 })
  t.teardown(() => board.close())
  await board.add(path)
  const repo = await runtime.repo(path)
  await repo.issues.create({ title: 'one' })
  await repo.issues.list()
  const token = new URL(board.urlWithToken()).searchParams.get('token')!
  const view = async (): Promise<any> => {
    const res = await fetch(`${board.url}api/runtime`, { headers: { authorization: `Bearer ${token}` } })
    t.equal(res.status, 200)
    return ((await res.json()) as { data: any }).data
  }
  const first = await view()
  const worker = first.actors.find((a: any) => a.kind === 'repo-worker')
  t.ok(worker, 'the RepoWorker is listed')
  t.ok(worker.handled >= 2, `requests handled shown (${worker.handled})`)
  t.type(worker.openSince, 'number', 'open since shown')
  t.equal(worker.lastFailure, null, 'no failure yet')

  // A second repository starts the second thread (placement takes the thread with fewest repositories).
  await (await runtime.repo(dir.repo('r2'))).issues.list()
  const from = worker.thread as number
  const other = (await runtime.status()).threads.map((th) => th.threadId).find((id) => id !== from)
  t.type(other, 'number', 'a second thread runs')
  await runtime.move(path, other!)
  let events: any[] = []
  await eventually(async () => (events = (await view()).events).some((e: any) => e.kind === 'repo:moved'), 10_000)
  t.match(events.find((e) => e.kind === 'repo:moved'), { repo: path, detail: `thread #${from} → #${other}` }, 'the move is an event of note, with both threads')
  await runtime.close(path)
  await eventually(async () => (events = (await view()).events).some((e: any) => e.kind === 'repo:closed'), 10_000)
  t.match(events.find((e) => e.kind === 'repo:closed'), { repo: path, detail: 'request' }, 'the close is an event of note, with its reason')
})
