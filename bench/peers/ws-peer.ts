import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import { Redis } from 'ioredis'
import { WebSocket, WebSocketServer } from 'ws'
import { env, isSendBody, json, readJson, type Session, sessionChecker, stats, verifyServiceToken } from './common'

/**
 * The floor: a bare `ws` server on one Redis stream read with XREAD, with the same contract
 * as herald's gateway (session check on upgrade, user → sockets map, pings, a backpressure
 * cap, the same envelope) and nothing more: no inbox, no replay, no presence, no queue.
 */
const STREAM = 'bench:stream'
const MAXLEN = '100000'

const redis = new Redis(env.redisUrl, { maxRetriesPerRequest: 2 })
const blocking = new Redis(env.redisUrl, { maxRetriesPerRequest: null })
const sessions = sessionChecker(redis)

interface Conn {
  ws: WebSocket
  session: Session
  missed: number
}
const users = new Map<string, Set<Conn>>()
const conns = new Set<Conn>()

function write(c: Conn, frame: Buffer): boolean {
  if (c.ws.readyState !== WebSocket.OPEN) return false
  if (c.ws.bufferedAmount > env.slowBytes) {
    c.ws.close(1013, 'too slow')
    return false
  }
  c.ws.send(frame, { binary: false })
  return true
}

const server = createServer(async (req, res) => {
  if (req.url === '/readyz' || req.url === '/healthz') return json(res, 200, { ok: true })
  if (req.url === '/stats') return json(res, 200, stats(conns.size))
  if (req.method === 'POST' && req.url === '/v1/messages') {
    if (!verifyServiceToken(req.headers.authorization)) return json(res, 401, { code: 'UNAUTHORIZED' })
    let body: unknown
    try {
      body = await readJson(req)
    } catch {
      return json(res, 400, { code: 'BAD_REQUEST' })
    }
    if (!isSendBody(body)) return json(res, 400, { code: 'BAD_REQUEST' })
    const createdAt = new Date().toISOString()
    const content = (id: string) =>
      JSON.stringify({
        id,
        kind: body.kind ?? 'direct',
        title: body.title,
        body: body.body,
        data: body.data,
        createdAt,
      })
    const pipe = redis.pipeline()
    const ids: string[] = []
    if ('all' in body.to) {
      const id = randomUUID()
      ids.push(id)
      pipe.xadd(STREAM, 'MAXLEN', '~', MAXLEN, '*', 'k', 'b', 'p', content(id))
    } else {
      for (const u of body.to.userIds) {
        const id = randomUUID()
        ids.push(id)
        pipe.xadd(STREAM, 'MAXLEN', '~', MAXLEN, '*', 'k', 'm', 'u', u, 'p', content(id))
      }
    }
    await pipe.exec()
    return json(res, 202, { ids })
  }
  json(res, 404, { code: 'NOT_FOUND' })
})

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024 })
server.on('upgrade', async (req, socket, head) => {
  socket.on('error', () => socket.destroy())
  const path = req.url?.split('?')[0]
  const session = path === '/ws' ? await sessions.check(req.headers.authorization).catch(() => null) : null
  if (!session) {
    socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
    return
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    const c: Conn = { ws, session, missed: 0 }
    conns.add(c)
    const set = users.get(session.userId) ?? new Set<Conn>()
    users.set(session.userId, set)
    set.add(c)
    ws.on('pong', () => {
      c.missed = 0
    })
    ws.on('message', () => {})
    ws.on('error', () => {})
    ws.on('close', () => {
      conns.delete(c)
      const s = users.get(session.userId)
      s?.delete(c)
      if (s?.size === 0) users.delete(session.userId)
    })
    const welcome = { type: 'welcome', connId: randomUUID(), userId: session.userId, replica: env.replica }
    write(c, Buffer.from(JSON.stringify({ ...welcome, resumed: false, gap: false })))
  })
})

/** Splices the stream id in as the cursor: the payload is encoded once per entry, never per socket. */
function frameOf(id: string, payload: string): Buffer {
  return Buffer.from(`{"type":"message","cursor":"${id}",${payload.slice(1)}`)
}

let stopped = false
async function readLoop(): Promise<void> {
  const last = await redis.xrevrange(STREAM, '+', '-', 'COUNT', 1)
  let lastId = last[0]?.[0] ?? '0-0'
  while (!stopped) {
    try {
      const reply = (await blocking.xread('COUNT', 500, 'BLOCK', 5000, 'STREAMS', STREAM, lastId)) as
        | [string, [string, string[]][]][]
        | null
      for (const [, entries] of reply ?? []) {
        for (const [id, f] of entries) {
          lastId = id
          const kind = f[1]
          if (kind === 'm') {
            const targets = users.get(f[3] as string)
            if (!targets) continue
            const frame = frameOf(id, f[5] as string)
            for (const c of [...targets]) write(c, frame)
          } else if (kind === 'b' && conns.size > 0) {
            const frame = frameOf(id, f[3] as string)
            for (const c of [...conns]) write(c, frame)
          }
        }
      }
    } catch {
      if (!stopped) await new Promise((r) => setTimeout(r, 200))
    }
  }
}

const pinger = setInterval(() => {
  for (const c of conns) {
    if (c.missed >= 2) {
      c.ws.terminate()
      continue
    }
    c.missed++
    c.ws.ping()
  }
}, env.pingMs)
const toucher = setInterval(() => {
  sessions.touchAll([...conns].map((c) => c.session.hash)).catch(() => {})
}, env.touchMs)

await redis.ping()
void readLoop()
server.listen(env.port, '127.0.0.1')

process.on('SIGTERM', () => {
  stopped = true
  clearInterval(pinger)
  clearInterval(toucher)
  for (const c of conns) c.ws.close(1012, 'restarting')
  server.close()
  blocking.disconnect()
  void redis.quit().finally(() => process.exit(0))
  setTimeout(() => process.exit(0), 2000).unref()
})
