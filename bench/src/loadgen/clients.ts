import { MAX_IDS_PER_FRAME } from '@herald/contracts'
import WebSocket from 'ws'
import { latencyHistogram, nowMs, recordMs, summarize } from '../hist'
import { healthMonitor } from './health'
import { serve } from './ipc'

/**
 * A forked process holding many client sockets of one system. It speaks herald's frames
 * (herald and the bare-ws peer) or Engine.IO/Socket.IO packets over a plain `ws` socket,
 * so that every system is driven by the same lean client. Each message carries its send
 * time and a per-user sequence number in `data` (`{t, s}`): latency, loss, duplicates and
 * reordering are counted here.
 */
export type Proto = 'herald' | 'sio'

interface Client {
  ws: WebSocket
  open: boolean
  /** message ids not acknowledged yet (herald's clients, `acks`) */
  pending: string[]
  ackTimer: NodeJS.Timeout | undefined
}

/** As herald's SDK: the ids delivered within this window go back in one `ack` frame (MAX_IDS_PER_FRAME at most). */
const ACK_DELAY_MS = 100

const health = healthMonitor()
const hist = latencyHistogram()
let clients: Client[] = []
let proto: Proto = 'herald'
let acks = false
let seen: Set<number>[] = []
let maxSeq: Int32Array = new Int32Array(0)
let received = 0
let duplicates = 0
let reordered = 0
let unexpectedCloses = 0
let firstAt = 0
let lastAt = 0
/** the latest receipt of each sequence number, relative to its send time (broadcast: time to reach every socket) */
const spanBySeq = new Map<number, number>()
/** the earliest receipt of each sequence number, relative to its send time (broadcast: time to the first socket) */
const firstBySeq = new Map<number, number>()

const BODY_RE = /^bench:([\d.]+):(\d+)$/

function record(i: number, frame: Record<string, unknown>, at: number): void {
  let t: number | undefined
  let s: number | undefined
  const data = frame.data as { t?: number; s?: number } | undefined
  if (data && typeof data.t === 'number') {
    t = data.t
    s = data.s
  } else if (typeof frame.body === 'string') {
    const m = BODY_RE.exec(frame.body)
    if (m) {
      t = Number(m[1])
      s = Number(m[2])
    }
  }
  if (t === undefined || s === undefined) return
  received++
  if (firstAt === 0) firstAt = at
  lastAt = at
  const set = seen[i] as Set<number>
  if (set.has(s)) {
    duplicates++
    return
  }
  set.add(s)
  if (s < (maxSeq[i] as number)) reordered++
  else maxSeq[i] = s
  recordMs(hist, at - t)
  if (spanBySeq.size < 10_000 && (spanBySeq.get(s) ?? 0) < at - t) spanBySeq.set(s, at - t)
  if (firstBySeq.size < 10_000 && (firstBySeq.get(s) ?? Number.POSITIVE_INFINITY) > at - t) firstBySeq.set(s, at - t)
}

function open(i: number, url: string, token: string, localAddress: string | undefined, timeoutMs: number) {
  return new Promise<boolean>((resolve) => {
    const ws = new WebSocket(url, {
      headers: { authorization: `Bearer ${token}` },
      perMessageDeflate: false,
      handshakeTimeout: timeoutMs,
      ...(localAddress ? { localAddress } : {}),
    })
    const c: Client = { ws, open: false, pending: [], ackTimer: undefined }
    clients[i] = c
    let settled = false
    const done = (ok: boolean) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      c.open = ok
      resolve(ok)
    }
    const timer = setTimeout(() => {
      done(false)
      ws.terminate()
    }, timeoutMs)
    ws.on('error', () => done(false))
    ws.on('close', () => {
      if (c.open) unexpectedCloses++
      c.open = false
      done(false)
    })
    ws.on('message', (raw) => {
      const at = nowMs()
      const text = raw.toString()
      let frame: Record<string, unknown>
      if (proto === 'sio') {
        if (text === '2') return ws.send('3')
        if (text.startsWith('0')) return ws.send('40')
        if (text.startsWith('44')) return done(false)
        if (!text.startsWith('42')) return
        const [event, payload] = JSON.parse(text.slice(2)) as [string, Record<string, unknown>]
        frame = { ...payload, type: event }
      } else {
        frame = JSON.parse(text) as Record<string, unknown>
      }
      if (frame.type === 'message') {
        record(i, frame, at)
        if (acks && typeof frame.id === 'string') ack(c, frame.id)
      } else if (frame.type === 'welcome') done(true)
    })
  })
}

function ack(c: Client, id: string): void {
  c.pending.push(id)
  c.ackTimer ??= setTimeout(() => {
    c.ackTimer = undefined
    while (c.pending.length > 0 && c.ws.readyState === WebSocket.OPEN)
      c.ws.send(JSON.stringify({ type: 'ack', ids: c.pending.splice(0, MAX_IDS_PER_FRAME) }))
    c.pending.length = 0
  }, ACK_DELAY_MS)
}

/** Opens sockets[i] with tokens[i], at most `concurrency` handshakes at a time. */
async function connect(msg: Record<string, unknown>) {
  proto = msg.proto as Proto
  acks = msg.acks === true
  const urls = msg.urls as string[]
  const tokens = msg.tokens as string[]
  const concurrency = Number(msg.concurrency ?? 100)
  const timeoutMs = Number(msg.timeoutMs ?? 10_000)
  // past ~28k sockets one source address runs out of ephemeral ports
  const perAddress = 25_000
  clients = new Array(tokens.length)
  seen = tokens.map(() => new Set<number>())
  maxSeq = new Int32Array(tokens.length)
  unexpectedCloses = 0
  const t0 = performance.now()
  let next = 0
  let ok = 0
  const worker = async () => {
    while (next < tokens.length) {
      const i = next++
      const local = tokens.length > perAddress ? `127.0.0.${2 + Math.floor(i / perAddress)}` : undefined
      if (await open(i, urls[i % urls.length] as string, tokens[i] as string, local, timeoutMs)) ok++
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, tokens.length) }, worker))
  const ms = performance.now() - t0
  return { connected: ok, failed: tokens.length - ok, ms }
}

function reset() {
  hist.reset()
  for (const s of seen) s.clear()
  maxSeq.fill(0)
  received = duplicates = reordered = 0
  firstAt = lastAt = 0
  spanBySeq.clear()
  firstBySeq.clear()
  health.reset()
  return { ok: true }
}

function collect() {
  const perUser = seen.map((s) => s.size)
  return {
    latency: summarize(hist),
    received,
    unique: perUser.reduce((a, b) => a + b, 0),
    perUser,
    duplicates,
    reordered,
    unexpectedCloses,
    open: clients.filter((c) => c?.open).length,
    firstAt,
    lastAt,
    spans: spanBySeq.size <= 100 ? [...spanBySeq.values()] : [],
    firsts: firstBySeq.size <= 100 ? [...firstBySeq.values()] : [],
    health: health.read(),
  }
}

async function disconnect() {
  const closing = clients.map(
    (c) =>
      new Promise<void>((resolve) => {
        if (!c) return resolve()
        clearTimeout(c.ackTimer)
        if (c.ws.readyState === WebSocket.CLOSED) return resolve()
        c.open = false
        const t = setTimeout(() => {
          c.ws.terminate()
          resolve()
        }, 2000)
        c.ws.once('close', () => {
          clearTimeout(t)
          resolve()
        })
        c.ws.close(1000)
      }),
  )
  await Promise.all(closing)
  clients = []
  return { ok: true }
}

serve(async (msg) => {
  switch (msg.cmd) {
    case 'connect':
      return connect(msg)
    case 'reset':
      return reset()
    case 'progress':
      return { received, unique: seen.reduce((a, s) => a + s.size, 0), open: clients.filter((c) => c?.open).length }
    case 'collect':
      return collect()
    case 'disconnect':
      return disconnect()
    default:
      throw new Error(`unknown command ${String(msg.cmd)}`)
  }
})
