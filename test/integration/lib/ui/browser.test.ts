/**
 * The board in a real browser (headless Chromium through puppeteer-core),
 * served by a real daemon process started the way a user starts it, with
 * `cairn ui` run as a real command:
 *
 * - the page opens with the token from the printed URL and shows the issues
 *   created through the library;
 * - an issue that another process (the `cairn` CLI, as an agent would) then
 *   creates and claims shows up in the Claimed column with its holder within
 *   2 s, without a reload;
 * - without the token the page is a 401;
 * - the server answers on 127.0.0.1 only;
 * - the page made no request anywhere but this server (its request log).
 *
 * A screenshot is kept in .tap/artifacts/board-browser.png.
 */
import t from 'tap'
import { connect as netConnect } from 'node:net'
import { createRuntime } from '../../../../lib/index.ts'
import { sandbox } from '../../../helpers/tmp-repos.ts'
import { artifact, launchBrowser } from '../../../helpers/browser.ts'
import { cliProcess, daemonProcess, envelope, stopDaemonOf } from '../daemon/daemon-helpers.ts'

// The page's globals as the callbacks below see them in the browser (this file is typechecked without the DOM library).
declare const document: { querySelector(selector: string): { textContent: string | null; querySelector(selector: string): { textContent: string | null } | null } | null; body: { innerText: string } }
declare const window: { marker?: number }

function refused(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect({ host, port })
    s.setTimeout(3000, () => { s.destroy(); resolve(false) })
    s.once('connect', () => { s.destroy(); resolve(false) })
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED' || err.code === 'EADDRNOTAVAIL' || err.code === 'ENETUNREACH'))
  })
}

t.test('the board in Chromium: token, issues, a claim by another process live within 2 s, 401, 127.0.0.1 only, no outside request', async (t) => {
  const box = sandbox()
  t.teardown(async () => { await stopDaemonOf(box.home); box.cleanup() })
  const repo = box.repo('team-repo')

  // Issues written through the library (its own runtime and home), before the daemon runs.
  const lib = await createRuntime({ home: `${box.dir}/library-home`, threads: 1 })
  const planner = await lib.repo(repo, { agent: 'planner' })
  const design = await planner.issues.create({ title: 'Design the storage layer', labels: ['design'] })
  const build = await planner.issues.create({ title: 'Build the storage layer', body: 'after the design' })
  await planner.issues.depend(build.id, { target: design.id, type: 'depends_on' })
  const docs = await planner.issues.create({ title: 'Write the operator guide', labels: ['docs'] })
  await lib.stop()

  const env = { ...process.env, CAIRN_HOME: box.home, CAIRN_CLI_BUNDLE: '0' }
  const daemon = daemonProcess(t, box.home, ['--idle-timeout', '0'])
  t.match(await daemon.ready, { ok: true })
  const ui = await cliProcess(['ui', '--port', '0', '--json'], { cwd: repo, env, timeoutMs: 60_000 })
  t.equal(ui.code, 0, `cairn ui exits 0 (${ui.stderr})`)
  const info = envelope(ui).data as { url: string; port: number; pid: number; allowWrites: boolean }
  t.equal(info.pid, daemon.pid, 'the daemon serves the board')
  t.equal(info.allowWrites, false, 'read-only by default')
  const url = new URL(info.url)
  t.equal(url.hostname, '127.0.0.1')
  const origin = `http://127.0.0.1:${info.port}`

  t.ok(await refused('127.0.0.2', info.port), 'nothing answers on another loopback address: bound to 127.0.0.1, not 0.0.0.0')
  t.ok(await refused('::1', info.port), 'nor on IPv6')

  const browser = await launchBrowser(t)
  const page = await browser.newPage()
  await page.setViewport({ width: 1440, height: 900 })
  const requests: string[] = []
  const problems: string[] = []
  page.on('request', (r) => requests.push(r.url()))
  page.on('pageerror', (e) => problems.push(`page error: ${(e as Error).message}`))
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`) })
  let navigations = 0
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations++ })

  const t0 = Date.now()
  const res = await page.goto(info.url, { waitUntil: 'domcontentloaded' })
  t.equal(res?.status(), 200, 'the URL with the token opens the page')
  t.notMatch(page.url(), /token=/, 'and the token leaves the address bar')
  await page.waitForFunction((ids: string[]) => ids.every((id) => document.querySelector(`.card[data-id="${id}"]`)), { timeout: 10_000 }, [design.id, build.id, docs.id])
  t.comment(`page load to all cards drawn: ${Date.now() - t0} ms`)
  const column = (id: string) => page.$eval(`.card[data-id="${id}"]`, (el) => (el as unknown as { dataset: { column?: string } }).dataset.column)
  t.equal(await column(design.id), 'ready', 'the library\'s issues are on the board: design is ready')
  t.equal(await column(build.id), 'blocked', 'build waits for design')
  t.match(await page.$eval(`.card[data-id="${build.id}"]`, (el) => el.textContent), /waits for/, 'and says so')
  t.match(await page.$eval(`.card[data-id="${docs.id}"] .title`, (el) => el.textContent), 'Write the operator guide')
  await page.evaluate(() => { window.marker = 42 })
  const navigated = navigations

  // Another process, as an agent would: create an issue, then claim it.
  const created = await cliProcess(['issue', 'create', 'Wire the live board', '-l', 'live', '--agent', 'worker-9', '--json'], { cwd: repo, env })
  t.equal(created.code, 0, `issue create (${created.stderr})`)
  const liveId = (envelope(created).data as { id: string }).id
  const claim = await cliProcess(['issue', 'claim', '--label', 'live', '--ttl', '120000', '--agent', 'worker-9', '--json'], { cwd: repo, env })
  t.equal(claim.code, 0, `issue claim (${claim.stderr})`)
  t.equal((envelope(claim).data as { issue: { id: string } }).issue.id, liveId, 'the claim took the new issue')
  const claimedAt = Date.now()
  await page.waitForFunction((id: string) => {
    const card = document.querySelector(`[data-column="claimed"] .card[data-id="${id}"]`)
    return card !== null && card.querySelector('.holder .who')?.textContent === 'worker-9' && /left/.test(card.querySelector('.countdown')?.textContent ?? '')
  }, { timeout: 2000, polling: 50 }, liveId)
  const latency = Date.now() - claimedAt
  t.ok(latency <= 2000, `the claimed issue is in Claimed with its holder worker-9 and time left ${latency} ms after the claim`)
  t.equal(await page.evaluate(() => window.marker), 42, 'without a reload (the page kept its state)')
  t.equal(navigations, navigated, 'and without a navigation')
  t.match(await page.$eval('#live', (el) => el.textContent), 'live', 'the page says it is live')
  await page.screenshot({ path: artifact('board-browser.png') })

  const fresh = await browser.createBrowserContext()
  const stranger = await fresh.newPage()
  const denied = await stranger.goto(`${origin}/`)
  t.equal(denied?.status(), 401, 'the same page without the token is a 401')
  t.match(await stranger.evaluate(() => document.body.innerText), /cairn ui/, 'telling how to get in')
  const deniedApi = await stranger.goto(`${origin}/api/boards`)
  t.equal(deniedApi?.status(), 401, 'and so is the API')
  await fresh.close()

  const outside = requests.filter((u) => !u.startsWith(`${origin}/`))
  t.same(outside, [], `every one of the page's ${requests.length} requests went to ${origin}`)
  t.ok(requests.some((u) => u.startsWith(`${origin}/api/live`)), 'including the live stream')
  t.same(problems, [], 'no page errors')
})
