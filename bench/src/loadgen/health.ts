import { monitorEventLoopDelay } from 'node:perf_hooks'
import type { GeneratorHealth } from './ipc'

/** Watches this process's own CPU share and event-loop lag since the last reset. */
export function healthMonitor() {
  const h = monitorEventLoopDelay({ resolution: 10 })
  h.enable()
  let cpu = process.cpuUsage()
  let t = performance.now()
  return {
    reset(): void {
      h.reset()
      cpu = process.cpuUsage()
      t = performance.now()
    },
    read(): GeneratorHealth {
      const d = process.cpuUsage(cpu)
      const wall = Math.max(1, performance.now() - t)
      const ms = (ns: number) => Math.round(ns / 1e4) / 100
      return {
        cpuPct: Math.round(((d.user + d.system) / 1000 / wall) * 1000) / 10,
        lagP99Ms: h.count > 0 ? ms(h.percentile(99)) : 0,
        lagMaxMs: h.count > 0 ? ms(h.max) : 0,
      }
    },
  }
}
