/** Rebuilds the runtime's clock inside a worker thread. */
import type { ClockDescriptor, ThreadClock } from '../kernel/ports/clock.ts'
import { SystemClock } from './system-clock.ts'
import { ManualClockView } from './manual-clock.ts'

export function clockFromDescriptor(d: ClockDescriptor): ThreadClock {
  return d.kind === 'manual' ? new ManualClockView(d.cell) : new SystemClock(d.offsetMs)
}
