import { createWriteStream, readFileSync } from 'node:fs'
import { finished } from 'node:stream/promises'
import WebSocket from 'ws'

/**
 * Heap snapshots from the V8 inspector of a replica started with `--inspect=127.0.0.1:0`: works
 * the same for herald's replicas and the peers' without any code of theirs.
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

interface InspectorMessage {
  id?: number
  method?: string
  params?: { chunk?: string }
}

/**
 * One session with a process's inspector: sends `calls` (numbered from 1) once connected, hands
 * every message to `onMessage`, and ends when the answer to the last call came (or after
 * `timeoutMs`: rejected).
 */
function session(
  url: string,
  calls: { method: string; params?: object }[],
  onMessage: (m: InspectorMessage) => void,
  timeoutMs: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 })
    const timer = setTimeout(() => {
      ws.terminate()
      reject(new Error('inspector timed out'))
    }, timeoutMs)
    ws.on('open', () => {
      for (const [i, c] of calls.entries()) ws.send(JSON.stringify({ id: i + 1, ...c }))
    })
    ws.on('message', (raw) => {
      const m = JSON.parse(raw.toString()) as InspectorMessage
      onMessage(m)
      if (m.id !== calls.length) return
      clearTimeout(timer)
      ws.close()
      resolve()
    })
    ws.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
  })
}

/** Runs two full GCs in the process (what it frees then leaves the RSS that follows). */
export function collectGarbage(url: string, timeoutMs = 10_000): Promise<void> {
  const gc = { method: 'HeapProfiler.collectGarbage' }
  return session(url, [gc, gc], () => {}, timeoutMs)
}

/**
 * Writes a heap snapshot of the process to `file`, after a full GC: the idle scenario's heap per
 * socket, and what `pnpm --filter @herald/bench heap-diff` compares to show what it is made of.
 */
export async function heapSnapshot(url: string, file: string, timeoutMs = 120_000): Promise<void> {
  const out = createWriteStream(file)
  await session(
    url,
    [
      { method: 'HeapProfiler.collectGarbage' },
      { method: 'HeapProfiler.takeHeapSnapshot', params: { reportProgress: false } },
    ],
    (m) => {
      if (m.method === 'HeapProfiler.addHeapSnapshotChunk') out.write(m.params?.chunk ?? '')
    },
    timeoutMs,
  ).finally(() => out.end())
  await finished(out)
}
