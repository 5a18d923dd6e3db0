/**
 * CPU time and RSS of another process (the daemon), read from Linux's
 * /proc, since process.cpuUsage() only sees this one. Elsewhere, or when the
 * process is gone, the answer is null and the report says nothing rather
 * than something wrong.
 */
import { readFileSync } from 'node:fs'

/** Clock ticks per second of /proc/<pid>/stat times: USER_HZ, 100 on every Linux ABI Node runs on. */
const USER_HZ = 100

/**
 * Parses the utime and stime fields (14th and 15th) of a /proc/<pid>/stat
 * line into ms. The command name (field 2) may contain spaces and
 * parentheses, so fields are counted from its closing parenthesis.
 * @example cpuMsFromStat('42 (node) S 1 2 3 4 5 6 7 8 9 10 250 50 ...') // 3000
 */
export function cpuMsFromStat(stat: string): number | null {
  const close = stat.lastIndexOf(')')
  if (close < 0) return null
  const fields = stat.slice(close + 2).split(' ')
  // fields[0] is field 3 (state), so utime (14) and stime (15) are at 11 and 12.
  const utime = Number(fields[11])
  const stime = Number(fields[12])
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null
  return ((utime + stime) * 1000) / USER_HZ
}

/** The VmRSS line of /proc/<pid>/status, in MiB. */
export function rssMiBFromStatus(status: string): number | null {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)
  return m ? Number(m[1]) / 1024 : null
}

/** CPU time (ms, user + system) and RSS (MiB) of `pid`, or null when unknown. */
export function serverUsage(pid: number | null): { cpuMs: number; rssMiB: number } | null {
  if (pid === null || process.platform !== 'linux') return null
  try {
    const cpuMs = cpuMsFromStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))
    const rssMiB = rssMiBFromStatus(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return cpuMs === null || rssMiB === null ? null : { cpuMs, rssMiB }
  } catch {
    return null
  }
}
