import type { RedisClient } from '@herald/redis'

/** Calls and microseconds per command, as Redis counts them itself (INFO commandstats). */
export type CommandStats = Record<string, { calls: number; usec: number }>

/** `cmdstat_xread:calls=12,usec=340,…` lines; the INFO probes themselves are left out. */
export function parseCommandStats(info: string): CommandStats {
  const out: CommandStats = {}
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    const name = m[1] as string
    if (name === 'info') continue
    out[name] = { calls: Number(m[2]), usec: Number(m[3]) }
  }
  return out
}

/** Every node's figures summed per command (each a connection to one redis-server, not a Cluster client). */
export async function commandStats(nodes: RedisClient[]): Promise<CommandStats> {
  const sum: CommandStats = {}
  for (const info of await Promise.all(nodes.map((n) => n.info('commandstats')))) {
    for (const [name, s] of Object.entries(parseCommandStats(info))) {
      const t = sum[name] ?? { calls: 0, usec: 0 }
      sum[name] = { calls: t.calls + s.calls, usec: t.usec + s.usec }
    }
  }
  return sum
}

/** after − before, commands that ran in between only; `plus` adds another difference to it. */
export function diffStats(after: CommandStats, before: CommandStats, plus: CommandStats = {}): CommandStats {
  const out: CommandStats = { ...plus }
  for (const [name, a] of Object.entries(after)) {
    const b = before[name] ?? { calls: 0, usec: 0 }
    const p = out[name] ?? { calls: 0, usec: 0 }
    if (a.calls > b.calls) out[name] = { calls: p.calls + a.calls - b.calls, usec: p.usec + a.usec - b.usec }
  }
  return out
}

export function totals(s: CommandStats): { calls: number; usec: number } {
  let calls = 0
  let usec = 0
  for (const v of Object.values(s)) {
    calls += v.calls
    usec += v.usec
  }
  return { calls, usec }
}

/** One command's calls and Redis µs per unit (a delivered message, an announce…). */
export type PerUnit = [name: string, calls: number, usec: number]

/**
 * Each command's calls and µs divided by `n` (to 2 decimals), biggest first by `by`: those under
 * `min` calls per unit and those named in `skip` (e.g. `evalsha`, to list only what scripts ran)
 * left out.
 */
export function perUnit(
  s: CommandStats,
  n: number,
  opts: { by?: 'calls' | 'usec'; min?: number; skip?: string[] } = {},
): PerUnit[] {
  if (n <= 0) return []
  const { by = 'calls', min = 0, skip = [] } = opts
  const col = by === 'calls' ? 1 : 2
  return Object.entries(s)
    .filter(([name]) => !skip.includes(name))
    .map(([name, v]): PerUnit => [name, Math.round((100 * v.calls) / n) / 100, Math.round((100 * v.usec) / n) / 100])
    .filter(([, calls]) => calls >= min)
    .sort((a, b) => b[col] - a[col])
}

/** `hset 2 (1.86 µs), zadd 2 (1.83 µs), …` */
export function formatPerUnit(rows: PerUnit[]): string {
  return rows.map(([name, calls, usec]) => `${name} ${calls} (${usec} µs)`).join(', ')
}
