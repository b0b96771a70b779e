import { readFileSync } from 'node:fs'
import WebSocket from 'ws'

/**
 * Heap figures from the V8 inspector of a replica started with `--inspect=127.0.0.1:0`:
 * a full GC first, then the heap in use, so one collection more or less does not decide
 * a per-socket figure. Works the same for herald's replicas and the peers' without any
 * code of theirs.
 */
export function inspectorUrl(logFile: string, timeoutMs = 5000): Promise<string> {
  const deadline = Date.now() + timeoutMs
  return new Promise((resolve, reject) => {
    const look = () => {
      let text = ''
      try {
        text = readFileSync(logFile, 'utf8')
      } catch {}
      const m = /Debugger listening on (ws:\/\/\S+)/.exec(text)
      if (m) return resolve(m[1] as string)
      if (Date.now() > deadline) return reject(new Error(`no inspector URL in ${logFile}`))
      setTimeout(look, 100)
    }
    look()
  })
}

/** Runs a full GC in the process and answers the V8 heap in use, in bytes. */
export function gcHeapUsed(url: string, timeoutMs = 10_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false })
    const timer = setTimeout(() => {
      ws.terminate()
      reject(new Error('inspector timed out'))
    }, timeoutMs)
    const send = (id: number, method: string) => ws.send(JSON.stringify({ id, method }))
    ws.on('open', () => {
      send(1, 'HeapProfiler.collectGarbage')
      send(2, 'HeapProfiler.collectGarbage')
      send(3, 'Runtime.getHeapUsage')
    })
    ws.on('message', (raw) => {
      const m = JSON.parse(raw.toString()) as { id?: number; result?: { usedSize?: number } }
      if (m.id !== 3) return
      clearTimeout(timer)
      ws.close()
      resolve(m.result?.usedSize ?? Number.NaN)
    })
    ws.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
  })
}
