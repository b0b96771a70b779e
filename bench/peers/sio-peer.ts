import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage } from 'node:http'
import { createAdapter } from '@socket.io/redis-streams-adapter'
import { Redis } from 'ioredis'
import { Server, type Socket } from 'socket.io'
import type { WebSocket } from 'ws'
import { env, isSendBody, json, readJson, type Session, sessionChecker, stats, verifyServiceToken } from './common'

/**
 * Socket.IO 4 with the Redis Streams adapter, held to herald's contract: websocket
 * transport only, no compression, the session checked on the upgrade request, one room
 * per user, engine.io pings, a backpressure cap, the same envelope in a `message` event.
 */
type SessionRequest = IncomingMessage & { benchSession?: Session }

const redis = new Redis(env.redisUrl, { maxRetriesPerRequest: 2 })
const adapterClient = new Redis(env.redisUrl)
const sessions = sessionChecker(redis)
let cursor = 0

const server = createServer(async (req, res) => {
  if (req.url === '/readyz' || req.url === '/healthz') return json(res, 200, { ok: true })
  if (req.url === '/stats') return json(res, 200, stats(io.engine.clientsCount))
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
    const envelope = (id: string) => ({
      type: 'message',
      cursor: `${env.replica}-${++cursor}`,
      id,
      kind: body.kind ?? 'direct',
      title: body.title,
      body: body.body,
      data: body.data,
      createdAt,
    })
    const ids: string[] = []
    if ('all' in body.to) {
      const id = randomUUID()
      ids.push(id)
      io.emit('message', envelope(id))
    } else {
      for (const u of body.to.userIds) {
        const id = randomUUID()
        ids.push(id)
        io.to(`u:${u}`).emit('message', envelope(id))
      }
    }
    return json(res, 202, { ids })
  }
  json(res, 404, { code: 'NOT_FOUND' })
})

const io = new Server(server, {
  transports: ['websocket'],
  perMessageDeflate: false,
  httpCompression: false,
  serveClient: false,
  maxHttpBufferSize: 64 * 1024,
  pingInterval: env.pingMs,
  // herald drops a socket that misses two pings
  pingTimeout: env.pingMs,
  adapter: createAdapter(adapterClient, { maxLen: 100_000, readCount: 500, onlyPlaintext: true }),
  allowRequest: (req, callback) => {
    sessions
      .check(req.headers.authorization)
      .then((s) => {
        if (s) (req as SessionRequest).benchSession = s
        callback(s ? null : 'unauthorized', s !== null)
      })
      .catch(() => callback('unauthorized', false))
  },
})

io.on('connection', (socket: Socket) => {
  const session = (socket.request as SessionRequest).benchSession
  if (!session) return socket.disconnect(true)
  socket.data.hash = session.hash
  void socket.join(`u:${session.userId}`)
  const conn = socket.conn
  conn.on('packetCreate', () => {
    const ws = (conn.transport as unknown as { socket?: WebSocket }).socket
    const queued = (conn as unknown as { writeBuffer: unknown[] }).writeBuffer.length
    if ((ws?.bufferedAmount ?? 0) > env.slowBytes || queued > 4096) socket.disconnect(true)
  })
  socket.emit('welcome', {
    type: 'welcome',
    connId: socket.id,
    userId: session.userId,
    replica: env.replica,
    resumed: false,
    gap: false,
  })
})

const toucher = setInterval(() => {
  const hashes: string[] = []
  for (const s of io.of('/').sockets.values()) hashes.push(s.data.hash as string)
  sessions.touchAll(hashes).catch(() => {})
}, env.touchMs)

await redis.ping()
server.listen(env.port, '127.0.0.1')

process.on('SIGTERM', () => {
  clearInterval(toucher)
  io.close()
  adapterClient.disconnect()
  void redis.quit().finally(() => process.exit(0))
  setTimeout(() => process.exit(0), 2000).unref()
})
