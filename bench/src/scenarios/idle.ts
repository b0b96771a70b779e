import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sleep } from '@herald/test-utils'
import type { Ctx } from '../context'
import { heapByKind } from '../heap-snapshot'
import { median } from '../hist'
import { cpuSeconds, rssBytes } from '../proc'
import type { System, SystemName } from '../systems'

export interface IdleRun {
  system: SystemName
  cycle: number
  sockets: number
  upgradesPerSec: number
  rssPerSocket: number
  heapPerSocket: number
  /** % of one core per 10k open sockets, pings included */
  cpuPctPer10k: number
}

export interface IdleResult {
  runs: IdleRun[]
  summary: Partial<Record<SystemName, Omit<IdleRun, 'system' | 'cycle'>>>
}

/** How long a replica gets to let go of a cycle's sockets before the next baseline. */
const DRAIN_MS = 3000

/**
 * The replica's live heap: a heap snapshot, after a full GC (the objects still reachable). The
 * snapshot goes to BENCH_HEAP_SNAPSHOTS when it names a directory (`pnpm --filter @herald/bench
 * heap-diff` compares a pair), else it is deleted.
 */
async function liveHeap(sys: System, file: string): Promise<number> {
  const keep = process.env.BENCH_HEAP_SNAPSHOTS
  const path = keep ? join(keep, file) : join(tmpdir(), `herald-bench-${process.pid}-${file}`)
  await sys.replicaHeapSnapshot(0, path)
  const heap = heapByKind(path).total
  if (!keep) rmSync(path, { force: true })
  return heap
}

/** The median RSS over a second, after a full GC. */
async function rss(sys: System, pid: number): Promise<number> {
  await sys.replicaGc(0)
  const xs: number[] = []
  for (let i = 0; i < 5; i++) {
    await sleep(200)
    xs.push(rssBytes(pid))
  }
  return median(xs)
}

/**
 * N sockets on ONE replica (connected straight to it, so nginx's own memory does not
 * count): authenticated upgrades/s while they open, then RSS and heap per socket and CPU
 * at rest (pings every PING_INTERVAL_MS) — systems alternating, the first cycle discarded.
 * Heap and RSS are the growth from just before the sockets open to just after, divided by the
 * sockets: the heap as the live objects of a heap snapshot taken through the replica's inspector
 * (after a full GC), the RSS as its median over the second after a full GC. The heap's used size, read after a forced GC instead,
 * moved between 4.5 and 10.7 KiB per socket from one cycle to the next for the same build, where
 * the snapshots of those cycles held 5.4–5.5 KiB per socket.
 */
export async function idle(ctx: Ctx, names: SystemName[]): Promise<IdleResult> {
  const { profile } = ctx
  const runs: IdleRun[] = []
  ctx.log(`idle: ${profile.sockets} sockets on one replica, pings every ${profile.pingMs} ms`)
  for (let c = 0; c <= profile.cycles; c++) {
    for (const name of names) {
      const sys = ctx.systems.get(name)
      if (!sys) continue
      const pid = sys.replicaPid(0)
      const users = await sys.users(profile.sockets)
      const gen = ctx.clients(name)
      // both RSS readings between the two snapshots: a snapshot's own memory would count otherwise
      const heap0 = await liveHeap(sys, `${name}-cycle${c}-before.heapsnapshot`)
      const rss0 = await rss(sys, pid)
      const r = await gen.call<{ connected: number; failed: number; ms: number }>(
        {
          cmd: 'connect',
          proto: sys.proto,
          acks: sys.acks,
          urls: [sys.replicaWsUrl(0)],
          tokens: users.map((u) => u.token),
          concurrency: 64,
        },
        180_000,
      )
      if (r.failed > 0) ctx.log(`  ${name}: ${r.failed} sockets failed to connect`)
      await sleep(1000)
      const rss1 = await rss(sys, pid)
      const heap1 = await liveHeap(sys, `${name}-cycle${c}-after.heapsnapshot`)
      // CPU apart from the sampling, which costs the replica a little
      const cpu0 = cpuSeconds(pid)
      const t0 = performance.now()
      await sleep(profile.idleWindowMs)
      const cpuPct = ((cpuSeconds(pid) - cpu0) / ((performance.now() - t0) / 1000)) * 100
      await gen.call({ cmd: 'disconnect' })
      // the replica lets go of the sockets before the next cycle's baseline (run alone, a
      // system's next cycle came at once: its baseline held these sockets, and the growth went negative)
      await sleep(DRAIN_MS)
      const run: IdleRun = {
        system: name,
        cycle: c,
        sockets: r.connected,
        upgradesPerSec: Math.round(r.connected / (r.ms / 1000)),
        rssPerSocket: Math.round((rss1 - rss0) / r.connected),
        heapPerSocket: Math.round((heap1 - heap0) / r.connected),
        cpuPctPer10k: Math.round(cpuPct * (10_000 / r.connected) * 10) / 10,
      }
      ctx.log(
        `  ${c === 0 ? 'warm-up ' : `cycle ${c} `}${name.padEnd(9)} ${run.sockets} sockets: ${run.upgradesPerSec} upgrades/s, ` +
          `RSS ${(run.rssPerSocket / 1024).toFixed(1)} KiB/socket, heap ${(run.heapPerSocket / 1024).toFixed(1)} KiB/socket, ` +
          `${run.cpuPctPer10k}% core per 10k`,
      )
      if (c > 0) runs.push(run)
    }
  }
  const summary: IdleResult['summary'] = {}
  for (const name of names) {
    const mine = runs.filter((r) => r.system === name)
    if (mine.length === 0) continue
    summary[name] = {
      sockets: median(mine.map((r) => r.sockets)),
      upgradesPerSec: median(mine.map((r) => r.upgradesPerSec)),
      rssPerSocket: median(mine.map((r) => r.rssPerSocket)),
      heapPerSocket: median(mine.map((r) => r.heapPerSocket)),
      cpuPctPer10k: median(mine.map((r) => r.cpuPctPer10k)),
    }
  }
  return { runs, summary }
}
