/**
 * A real headless Chromium (Debian's, installed by scripts/setup) driven by
 * puppeteer-core, with a fresh profile and everything that would talk to
 * the network on its own turned off, so the only requests are the page's.
 * Closed (and its profile removed) in teardown.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import puppeteer, { type Browser } from 'puppeteer-core'

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Where tests keep screenshots (gitignored with the rest of .tap/). */
export const ARTIFACTS = fileURLToPath(new URL('../../.tap/artifacts/', import.meta.url))

export async function launchBrowser(t: { teardown(fn: () => unknown): void }): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: run scripts/setup (it installs Debian's chromium), or set CHROMIUM_PATH`)
  const profile = mkdtempSync(join(tmpdir(), 'cairn-chromium-'))
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-default-apps', '--disable-extensions', `--user-data-dir=${profile}`],
    timeout: 30_000,
  })
  t.teardown(async () => {
    await browser.close().catch(() => undefined)
    rmSync(profile, { recursive: true, force: true })
  })
  return browser
}

/** The path of an artifact named `name`, its folder created. */
export function artifact(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true })
  return join(ARTIFACTS, name)
}
