/** Child processes of the bench (servers and daemons under test). */
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'

/**
 * Ends a forked child: disconnecting its IPC channel is the signal to exit;
 * SIGKILL after `killAfterMs` if it has not. Resolves once it has exited.
 */
export async function stopChild(child: ChildProcess, killAfterMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  if (child.connected) child.disconnect()
  const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs)
  try {
    await exited
  } finally {
    clearTimeout(timer)
  }
}
