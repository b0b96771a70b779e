import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { WebSocketServer } from 'ws'
import type { ClientFrame, InboxItem, InboxState, MessageFrame, PreferenceValue, ServerFrame } from '../src/types'

/**
 * An in-process protocol fake of herald's public surface — `POST /auth/ws-ticket`,
 * `/ws` and `/sse` (welcome, replay after `since`, gap, live messages, read frames, close
 * codes), `POST /sse/frames`, `GET /inbox`, `GET /inbox/counts`, `POST /inbox/read`, `POST /inbox/state`,
 * `DELETE /inbox/:id` and `GET/PUT /inbox/preferences` — for one user, and a sender's retraction
 * (`retract`). It speaks the contract of docs/protocol.md; it is not a model of Redis.
 */
/** What the fake holds of either transport: a WebSocket, or an event stream made to look like one. */
export interface FakeSocket {
  readonly readyState: number
  readonly OPEN: number
  send(data: string): void
  close(code: number, reason: string): void
  terminate(): void
}

export interface FakeConnection {
  transport: 'websocket' | 'sse'
  ws: FakeSocket
  ticket: string
  since: string | undefined
  replica: string
  /** frames the client sent, parsed */
  frames: ClientFrame[]
  closed: boolean
  /** the close code the client sent (1006 for a stream the client dropped) */
  closeCode: number | null
}

export interface FakeHerald {
  url: string
  userId: string
  /** the session the welcome names */
  sessionId: string
  /** session tokens that `POST /auth/ws-ticket` accepts */
  tokens: Set<string>
  ticketRequests: { authorization: string | undefined }[]
  connections: FakeConnection[]
  /** every message ever published, oldest first */
  messages: MessageFrame[]
  readBodies: unknown[]
  stateBodies: unknown[]
  inboxQueries: URLSearchParams[]
  /** the user's preferences, as `PUT /inbox/preferences` left them */
  preferences: Record<string, PreferenceValue>
  /** kinds that `PUT /inbox/preferences` refuses to mute */
  mandatory: string[]
  /** messages with a cursor below this one are no longer retained: resuming from before it is a gap */
  retainFrom: string | undefined
  /** the next N ticket requests answer 503 */
  failTickets: number
  /** the next N tickets are refused on the socket with 4401 */
  refuseTickets: number
  /** the next N sockets never get a welcome */
  silentSockets: number
  /** WebSocket upgrades are refused with 403 (a proxy that blocks WebSockets) */
  blockWebSockets: boolean
  /** WebSocket upgrades get no answer at all (the socket stays connecting); counts the ones held */
  stallWebSockets: boolean
  stalledUpgrades: number
  publish(fields?: Partial<MessageFrame>): MessageFrame
  /** the sender took these back (`DELETE /v1/messages/:id`): out of the inbox, a `retract` frame to every open socket */
  retract(...ids: string[]): void
  /** writes a frame to every open socket as is (e.g. the same message twice) */
  sendRaw(frame: ServerFrame): void
  live(): FakeConnection[]
  close(): Promise<void>
}

export async function startFakeHerald(): Promise<FakeHerald> {
  let cursorSeq = 1_700_000_000_000_000
  let replicaSeq = 0
  /** ids stay unique when messages leave (deleted, retracted) */
  let messageSeq = 0
  const tickets = new Set<string>()
  const read = new Set<string>()
  const seenIds = new Set<string>()
  const archived = new Set<string>()
  const itemOf = ({ type: _t, ...m }: MessageFrame): InboxItem => ({
    ...m,
    read: read.has(m.id),
    seen: read.has(m.id) || seenIds.has(m.id),
    archived: archived.has(m.id),
  })
  /** applies one state to one message id; true when it changed */
  const apply = (state: InboxState, id: string): boolean => {
    const at = fake.messages.findIndex((m) => m.id === id)
    if (at < 0) return false
    const was = JSON.stringify(itemOf(fake.messages[at] as MessageFrame))
    if (state === 'deleted') fake.messages.splice(at, 1)
    else if (state === 'seen') seenIds.add(id)
    else if (state === 'read') read.add(id)
    else if (state === 'unread') read.delete(id) && seenIds.add(id)
    else if (state === 'archived') archived.add(id)
    else archived.delete(id)
    return state === 'deleted' || was !== JSON.stringify(itemOf(fake.messages[at] as MessageFrame))
  }

  const fake: FakeHerald = {
    url: '',
    userId: 'u1',
    sessionId: 's1',
    tokens: new Set(['token-1']),
    ticketRequests: [],
    connections: [],
    messages: [],
    readBodies: [],
    stateBodies: [],
    inboxQueries: [],
    preferences: {},
    mandatory: ['account.login'],
    retainFrom: undefined,
    failTickets: 0,
    refuseTickets: 0,
    silentSockets: 0,
    blockWebSockets: false,
    stallWebSockets: false,
    stalledUpgrades: 0,
    publish(fields = {}) {
      const n = ++messageSeq
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
    retract(...ids) {
      fake.messages = fake.messages.filter((m) => !ids.includes(m.id))
      fake.sendRaw({ type: 'retract', ids })
    },
    sendRaw(frame) {
      for (const c of fake.live()) c.ws.send(JSON.stringify(frame))
    },
    live: () => fake.connections.filter((c) => !c.closed && c.ws.readyState === c.ws.OPEN),
    close: async () => {
      for (const c of fake.connections) c.ws.terminate()
      for (const s of stalled) s.destroy()
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
    if (req.method === 'GET' && url.pathname === '/sse') return openStream(req, res, url)
    if (req.method === 'POST' && url.pathname === '/sse/frames') {
      if (!authed(req)) return unauthorized(res)
      const frame = (await readBody(req)) as ClientFrame
      const conn = fake.live().find((c) => c.transport === 'sse')
      conn?.frames.push(frame)
      if (frame.type === 'read') {
        for (const id of frame.ids) read.add(id)
        fake.sendRaw({ type: 'read', ids: frame.ids })
      }
      return json(res, 204)
    }
    if (req.method === 'GET' && url.pathname === '/inbox') {
      if (!authed(req)) return unauthorized(res)
      fake.inboxQueries.push(url.searchParams)
      const filter = url.searchParams.get('state')
      const all = fake.messages.toReversed().map(itemOf)
      const items = all.filter((i) => (filter === 'archived' ? i.archived : !i.archived))
      return json(res, 200, { items, unread: items.filter((i) => !i.read).length, nextBefore: null })
    }
    if (req.method === 'GET' && url.pathname === '/inbox/counts') {
      if (!authed(req)) return unauthorized(res)
      const kept = fake.messages.map(itemOf).filter((i) => !i.archived)
      return json(res, 200, {
        total: kept.length,
        unseen: kept.filter((i) => !i.seen).length,
        unread: kept.filter((i) => !i.read).length,
        archived: archived.size,
      })
    }
    if (req.method === 'POST' && url.pathname === '/inbox/state') {
      if (!authed(req)) return unauthorized(res)
      const body = (await readBody(req)) as { state: InboxState; ids?: string[]; upTo?: string }
      fake.stateBodies.push(body)
      const ids = body.ids ?? fake.messages.filter((m) => BigInt(m.cursor) <= BigInt(body.upTo ?? '0')).map((m) => m.id)
      const changed = ids.filter((id) => apply(body.state, id))
      if (body.state === 'read') fake.sendRaw({ type: 'read', ids: changed })
      else if (body.upTo) fake.sendRaw({ type: 'state', state: body.state, upTo: body.upTo })
      else fake.sendRaw({ type: 'state', state: body.state, ids: changed })
      return json(res, 200, { changed: changed.length })
    }
    if (req.method === 'DELETE' && url.pathname.startsWith('/inbox/')) {
      if (!authed(req)) return unauthorized(res)
      const id = decodeURIComponent(url.pathname.slice('/inbox/'.length))
      if (!apply('deleted', id))
        return json(res, 404, { statusCode: 404, code: 'NOT_FOUND', error: 'Not Found', message: id })
      fake.sendRaw({ type: 'state', state: 'deleted', ids: [id] })
      return json(res, 204)
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
    if (url.pathname === '/inbox/preferences' && (req.method === 'GET' || req.method === 'PUT')) {
      if (!authed(req)) return unauthorized(res)
      if (req.method === 'PUT') {
        const { kinds } = (await readBody(req)) as { kinds: Record<string, PreferenceValue> }
        const refused = Object.keys(kinds).filter((k) => kinds[k] !== 'on' && fake.mandatory.includes(k))
        if (refused.length > 0) {
          const message = `These kinds cannot be muted: ${refused.join(', ')}`
          return json(res, 400, { statusCode: 400, code: 'KIND_NOT_MUTABLE', error: 'Bad Request', message })
        }
        fake.preferences = Object.fromEntries(Object.entries(kinds).filter(([, v]) => v !== 'on'))
      }
      return json(res, 200, { kinds: fake.preferences, mandatory: fake.mandatory })
    }
    json(res, 404, { statusCode: 404, code: 'NOT_FOUND', error: 'Not Found', message: 'no route' })
  })

  const wss = new WebSocketServer({ noServer: true })
  const stalled: Duplex[] = []
  server.on('upgrade', (req, socket, head) => {
    // a client that drops the socket first (after reading a refusal) resets it: not an error of the test
    socket.on('error', () => {})
    if (fake.stallWebSockets) {
      fake.stalledUpgrades++
      stalled.push(socket)
      return
    }
    if (fake.blockWebSockets || !req.url?.startsWith('/ws')) {
      socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n')
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const url = new URL(req.url ?? '/', 'http://fake')
      const conn = accept('websocket', ws, url)
      ws.on('message', (data) => conn.frames.push(JSON.parse(data.toString()) as ClientFrame))
      ws.on('close', (code) => {
        conn.closed = true
        conn.closeCode = code
      })
      admit(conn)
    })
  })

  /**
   * `GET /sse`: the same connection as an event stream (id: = cursor), which starts with its
   * first frame; a refusal before that is an HTTP error, a close after it an `event: close`.
   */
  function openStream(req: IncomingMessage, res: ServerResponse, url: URL): void {
    let started = false
    let ended = false
    const start = () => {
      if (started) return
      started = true
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
      res.write('retry: 1000\n\n')
    }
    const stream: FakeSocket = {
      OPEN: 1,
      get readyState() {
        return ended || res.destroyed ? 3 : 1
      },
      send(data) {
        start()
        const cursor = (JSON.parse(data) as { cursor?: string }).cursor
        res.write(`${cursor ? `id: ${cursor}\n` : ''}data: ${data}\n\n`)
      },
      close(code, reason) {
        if (ended) return
        ended = true
        if (started) return void res.end(`event: close\ndata: ${JSON.stringify({ code, reason })}\n\n`)
        const status = code === 4401 || code === 4409 ? 401 : 503
        json(res, status, {
          statusCode: status,
          code: status === 401 ? 'UNAUTHORIZED' : 'SERVICE_UNAVAILABLE',
          message: reason,
        })
      },
      terminate() {
        ended = true
        res.destroy()
      },
    }
    const since = req.headers['last-event-id'] ?? url.searchParams.get('since') ?? undefined
    if (since !== undefined) url.searchParams.set('since', String(since))
    const conn = accept('sse', stream, url)
    res.on('close', () => {
      conn.closed = true
      conn.closeCode ??= 1006
    })
    admit(conn)
  }

  function accept(transport: FakeConnection['transport'], ws: FakeSocket, url: URL): FakeConnection {
    const conn: FakeConnection = {
      transport,
      ws,
      ticket: url.searchParams.get('ticket') ?? '',
      since: url.searchParams.get('since') ?? undefined,
      replica: `gateway-${(replicaSeq++ % 3) + 1}`,
      frames: [],
      closed: false,
      closeCode: null,
    }
    fake.connections.push(conn)
    return conn
  }

  /** Ticket, welcome and replay: the same on both transports. */
  function admit(conn: FakeConnection): void {
    const { ws, ticket, since } = conn
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
      sessionId: fake.sessionId,
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
  }

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
