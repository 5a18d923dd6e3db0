/**
 * `cairn ui --open`: opens the board in the user's browser without putting
 * the token on a command line (where `ps` shows it to every user of the
 * machine): the URL goes into a 0600 page in the 0700 home that redirects
 * to it, and the browser is given that file's path. The browser is
 * `$BROWSER` when set, else `xdg-open` (`open` on macOS).
 */
import { spawn } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

export const OPEN_PAGE = 'ui-open.html'

const escapeAttr = (s: string): string => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;')

/**
 * Opens `url` through a redirect page; resolves with a line for the user.
 * @example const note = await openInBrowser(home, info.url)
 */
export async function openInBrowser(home: string, url: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const page = join(home, OPEN_PAGE)
  rmSync(page, { force: true })
  writeFileSync(page, `<!doctype html><meta charset="utf-8"><meta name="referrer" content="no-referrer"><meta http-equiv="refresh" content="0;url=${escapeAttr(url)}"><title>Cairn board</title><a href="${escapeAttr(url)}">open the board</a>\n`, { mode: 0o600 })
  const browser = env.BROWSER?.trim() || (process.platform === 'darwin' ? 'open' : 'xdg-open')
  const target = pathToFileURL(page).href
  return new Promise((resolve) => {
    let child
    try {
      child = spawn(browser, [target], { detached: true, stdio: 'ignore' })
    } catch (err) {
      resolve(`could not start a browser (${browser}: ${(err as Error).message}); open the URL yourself`)
      return
    }
    child.once('error', (err) => resolve(`could not start a browser (${browser}: ${err.message}); open the URL yourself`))
    child.once('spawn', () => {
      child.unref()
      resolve(`opened in your browser (${browser})`)
    })
  })
}
