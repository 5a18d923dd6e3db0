/**
 * The Supervisor's check for a host module file that is not there
 * (thread-slot.ts): it names the file with the loader's own code, and
 * leaves every entry it cannot judge (relative, not a file, an existing
 * file) to the loader.
 */
import t from 'tap'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { missingHostModule } from '../../../../actors/supervisor/thread-slot.ts'

const here = fileURLToPath(import.meta.url)

t.test('a missing file, as a file: URL or an absolute path, is ERR_MODULE_NOT_FOUND naming it', async (t) => {
  const path = `${here}.no-such-host.js`
  for (const entry of [pathToFileURL(path).href, path]) {
    t.strictSame(missingHostModule(entry), { name: 'Error', code: 'ERR_MODULE_NOT_FOUND', message: `Cannot find module '${path}'` }, entry)
  }
})

t.test('entries it cannot judge are left to the loader', async (t) => {
  t.equal(missingHostModule(pathToFileURL(here).href), null, 'an existing file')
  t.equal(missingHostModule(here), null, 'an existing path')
  t.equal(missingHostModule('./relative/host.js'), null, 'a relative path (resolved by the loader)')
  t.equal(missingHostModule('file://remote-host/share/host.js'), null, 'a file: URL this platform cannot turn into a path')
  t.equal(missingHostModule('data:text/javascript,export default 1'), null, 'not a file')
})
