/** Rebuilds the runtime's clock inside a worker thread. */
import type { Clock, ClockDescriptor } from '../ports/clock.ts'
import { SystemClock } from './system-clock.ts'
import { ManualClockView } from '../testing/manual-clock.ts'

export type ThreadClock = Clock & { tick?: () => number }

export function clockFromDescriptor(d: ClockDescriptor): ThreadClock {
  return d.kind === 'manual' ? new ManualClockView(d.cell) : new SystemClock(d.offsetMs)
}
