/**
 * Child process of the daemon target: runs the real daemon (lib/daemon/
 * server.ts startDaemon) for the home given in argv, with the thread count
 * given, reports `{ pid }` over IPC once it serves, and stops cleanly when
 * the parent disconnects (or dies), so no daemon outlives a bench run.
 *
 * Launched with fork() rather than through the `cairn` CLI so the bench
 * measures the daemon itself, with the bench's thread count, whatever state
 * the CLI entry is in.
 */
import { startDaemon } from '../../lib/daemon/server.ts'

const [home, threads] = process.argv.slice(-2) as [string, string]

const daemon = await startDaemon({ home, threads: Number(threads), idleTimeoutSec: 0, maxConnections: 4096 })
process.send?.({ pid: process.pid })
let stopping = false
const stop = (): void => {
  if (stopping) return
  stopping = true
  void daemon.stop('request').finally(() => process.exit(0))
}
process.on('disconnect', stop)
process.on('SIGTERM', stop)
void daemon.stopped.then(() => process.exit(0))
