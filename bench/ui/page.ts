/**
 * The board page as the UI bench drives it: headless Chromium (Debian's,
 * through puppeteer-core) with a fresh profile and nothing of its own on the
 * network; each page in a fresh browser context, so a load is a cold one
 * (no cookie, no cache). Also the screenshots the report shows.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import puppeteer, { type Browser, type BrowserContext, type Page } from 'puppeteer-core'

export interface OpenPage { page: Page; context: BrowserContext; close(): Promise<void> }

export async function launch(): Promise<{ browser: Browser; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'cairn-bench-chromium-'))
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-default-apps', '--disable-extensions', `--user-data-dir=${profile}`],
  })
  return { browser, close: async () => { await browser.close().catch(() => undefined); rmSync(profile, { recursive: true, force: true }) } }
}

/**
 * Opens the board URL in a cold context; resolves once the board is drawn
 * (cards on the page), with the time that took and the page's own timings.
 */
export async function openBoard(browser: Browser, url: string, size = { width: 1600, height: 1000 }): Promise<OpenPage & { loadMs: number; domContentLoadedMs: number }> {
  const context = await browser.createBrowserContext()
  const page = await context.newPage()
  await page.setViewport(size)
  const t0 = performance.now()
  await page.goto(url, { waitUntil: 'domcontentloaded' })
  await page.waitForSelector('.board[data-loaded]', { timeout: 30_000 })
  const loadMs = performance.now() - t0
  const domContentLoadedMs = await page.evaluate('performance.getEntriesByType("navigation")[0].domContentLoadedEventEnd') as number
  return { page, context, loadMs, domContentLoadedMs, close: () => context.close() }
}

/** Screenshots of every view of `repo`'s board into `dir`; resolves with the file names. */
export async function screenshots(page: Page, repo: string, dir: string, issue: string | null): Promise<string[]> {
  const files: string[] = []
  mkdirSync(dir, { recursive: true })
  const shot = async (name: string, hash: string, wait = 1500): Promise<void> => {
    await page.evaluate((h: string) => { (globalThis as unknown as { location: { hash: string } }).location.hash = h }, `#/${repo}/${hash}`)
    await new Promise((r) => setTimeout(r, wait))
    const file = join(dir, `ui-${name}.png`)
    await page.screenshot({ path: file })
    files.push(file)
  }
  await shot('board', 'board', 2500)
  if (issue) await shot('issue', `issue/${issue}`)
  await shot('graph', 'graph')
  await shot('leases', 'leases')
  await shot('runtime', 'runtime')
  await shot('sync', 'sync')
  return files
}
