/**
 * Where and with what a run happened, for the report: the machine (with
 * its load, since the bench may share it) and the versions of everything
 * measured, read from the installed packages rather than from package.json
 * ranges, so the report names what actually ran.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { freemem, loadavg } from 'node:os'
import { machineInfo, type MachineInfo } from '../lib/report.ts'

const PACKAGES = ['lmdb', 'nodegit', 'piscina', 'xstate', 'msgpackr', 'hdr-histogram-js', 'tsx'] as const

function packageVersion(name: string): string {
  try {
    const url = new URL(`../../node_modules/${name}/package.json`, import.meta.url)
    return String((JSON.parse(readFileSync(url, 'utf8')) as { version?: unknown }).version ?? 'unknown')
  } catch {
    return 'not installed'
  }
}

/** Versions of the runtime, Cairn, its measured dependencies and the git CLI. */
export function versions(): Record<string, string> {
  const out: Record<string, string> = {
    node: process.versions.node,
    v8: process.versions.v8,
    libuv: process.versions.uv,
    cairn: (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version,
  }
  for (const p of PACKAGES) out[p] = packageVersion(p)
  try {
    out.git = execFileSync('git', ['--version'], { encoding: 'utf8' }).trim().replace(/^git version /, '')
  } catch {
    out.git = 'not found'
  }
  return out
}

/** machineInfo() plus the 1/5/15-minute load averages and free memory at the time of the call. */
export function machineNow(): MachineInfo & { loadAvg: number[]; freeMemGiB: number } {
  return { ...machineInfo(), loadAvg: loadavg().map((l) => Math.round(l * 100) / 100), freeMemGiB: Math.round((freemem() / 2 ** 30) * 100) / 100 }
}
