import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type WebSocket, WebSocketServer } from 'ws'
import type { ClientFrame, InboxItem, MessageFrame, ServerFrame } from '../src/types'

/**
 * An in-process protocol fake of herald's public surface — `POST /auth/ws-ticket`,
 * `/ws` (welcome, replay after `since`, gap, live messages, read frames, close codes),
 * `GET /inbox` and `POST /inbox/read` — for one user. It speaks the contract of docs/protocol.md;
 * it is not a model of Redis.
 */
export interface FakeConnection {
  ws: WebSocket
  ticket: string
  since: string | undefined
  replica: string
  /** frames the client sent, parsed */
  frames: ClientFrame[]
  closed: boolean
}

export interface FakeHerald {
  url: string
  userId: string
  /** session tokens that `POST /auth/ws-ticket` accepts */
  tokens: Set<string>
  ticketRequests: { authorization: string | undefined }[]
  connections: FakeConnection[]
  /** every message ever published, oldest first */
  messages: MessageFrame[]
  readBodies: unknown[]
  inboxQueries: URLSearchParams[]
  /** messages with a cursor below this one are no longer retained: resuming from before it is a gap */
  retainFrom: string | undefined
  /** the next N ticket requests answer 503 */
  failTickets: number
  /** the next N tickets are refused on the socket with 4401 */
  refuseTickets: number
  /** the next N sockets never get a welcome */
  silentSockets: number
  publish(fields?: Partial<MessageFrame>): MessageFrame
  /** writes a frame to every open socket as is (e.g. the same message twice) */
  sendRaw(frame: ServerFrame): void
  live(): FakeConnection[]
  close(): Promise<void>
}

export async function startFakeHerald(): Promise<FakeHerald> {
  let cursorSeq = 1_700_000_000_000_000
  let replicaSeq = 0
  const tickets = new Set<string>()
  const read = new Set<string>()

  const fake: FakeHerald = {
    url: '',
    userId: 'u1',
    tokens: new Set(['token-1']),
    ticketRequests: [],
    connections: [],
    messages: [],
    readBodies: [],
    inboxQueries: [],
    retainFrom: undefined,
    failTickets: 0,
    refuseTickets: 0,
    silentSockets: 0,
    publish(fields = {}) {
      const n = fake.messages.length + 1
      const m: MessageFrame = {
        type: 'message',
        cursor: String(++cursorSeq),
        id: `m-${n}`,
        kind: 'test',
        title: `message ${n}`,
        body: `body ${n}`,
        data: {},
        createdAt: new Date().toISOString(),
        ...fields,
      }
      fake.messages.push(m)
      for (const c of fake.live()) c.ws.send(JSON.stringify(m))
      return m
    },
    sendRaw(frame) {
      for (const c of fake.live()) c.ws.send(JSON.stringify(frame))
    },
    live: () => fake.connections.filter((c) => !c.closed && c.ws.readyState === c.ws.OPEN),
    close: async () => {
      for (const c of fake.connections) c.ws.terminate()
      await new Promise<void>((r) => wss.close(() => r()))
      await new Promise<void>((r) => server.close(() => r()))
    },
  }

  const json = (res: ServerResponse, status: number, body?: unknown) => {
    res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' })
    res.end(body === undefined ? undefined : JSON.stringify(body))
  }
  const unauthorized = (res: ServerResponse) =>
    json(res, 401, { statusCode: 401, code: 'UNAUTHORIZED', error: 'Unauthorized', message: 'invalid session' })
  const authed = (req: IncomingMessage) => fake.tokens.has((req.headers.authorization ?? '').replace(/^Bearer /, ''))
  const readBody = async (req: IncomingMessage): Promise<unknown> => {
    let text = ''
    for await (const chunk of req) text += chunk
    return text ? JSON.parse(text) : undefined
  }

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake')
    if (req.method === 'POST' && url.pathname === '/auth/ws-ticket') {
      fake.ticketRequests.push({ authorization: req.headers.authorization })
      if (fake.failTickets > 0) {
        fake.failTickets--
        return json(res, 503, { statusCode: 503, code: 'UNAVAILABLE', error: 'Service Unavailable', message: 'busy' })
      }
      if (!authed(req)) return unauthorized(res)
      const ticket = randomUUID()
      tickets.add(ticket)
      return json(res, 200, { ticket, expiresIn: 60 })
    }
    if (req.method === 'GET' && url.pathname === '/inbox') {
      if (!authed(req)) return unauthorized(res)
      fake.inboxQueries.push(url.searchParams)
      const items: InboxItem[] = fake.messages
        .toReversed()
        .map(({ type: _t, ...m }) => ({ ...m, read: read.has(m.id) }))
      return json(res, 200, { items, unread: items.filter((i) => !i.read).length, nextBefore: null })
    }
    if (req.method === 'POST' && url.pathname === '/inbox/read') {
      if (!authed(req)) return unauthorized(res)
      const body = (await readBody(req)) as { ids?: string[]; all?: true }
      fake.readBodies.push(body)
      const ids = body.all ? fake.messages.map((m) => m.id) : (body.ids ?? [])
      for (const id of ids) read.add(id)
      fake.sendRaw({ type: 'read', ids })
      return json(res, 204)
    }
    json(res, 404, { statusCode: 404, code: 'NOT_FOUND', error: 'Not Found', message: 'no route' })
  })

  const wss = new WebSocketServer({ server, path: '/ws' })
  wss.on('connection', (ws, req) => {
    const url = new URL(req.url ?? '/', 'http://fake')
    const ticket = url.searchParams.get('ticket') ?? ''
    const since = url.searchParams.get('since') ?? undefined
    const conn: FakeConnection = {
      ws,
      ticket,
      since,
      replica: `gateway-${(replicaSeq++ % 3) + 1}`,
      frames: [],
      closed: false,
    }
    fake.connections.push(conn)
    ws.on('message', (data) => conn.frames.push(JSON.parse(data.toString()) as ClientFrame))
    ws.on('close', () => {
      conn.closed = true
    })
    // a ticket works once
    const valid = tickets.delete(ticket)
    if (!valid || fake.refuseTickets > 0) {
      if (valid) fake.refuseTickets--
      ws.close(4401, 'invalid ticket')
      return
    }
    if (fake.silentSockets > 0) {
      fake.silentSockets--
      return
    }
    const gap = since !== undefined && fake.retainFrom !== undefined && BigInt(since) < BigInt(fake.retainFrom)
    const welcome: ServerFrame = {
      type: 'welcome',
      connId: randomUUID(),
      userId: fake.userId,
      replica: conn.replica,
      resumed: since !== undefined,
      gap,
      // like herald's gateways: a fresh connection learns the newest cursor handed out
      ...(since === undefined ? { cursor: fake.messages.at(-1)?.cursor ?? '0' } : {}),
    }
    ws.send(JSON.stringify(welcome))
    if (since === undefined) return
    for (const m of fake.messages) {
      if (BigInt(m.cursor) <= BigInt(since)) continue
      if (fake.retainFrom !== undefined && BigInt(m.cursor) < BigInt(fake.retainFrom)) continue
      ws.send(JSON.stringify(m))
    }
  })

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return fake
}

/** Polls `check` every 5 ms until it holds. */
export async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
