import { backoff } from './backoff'
import { CloseCode } from './close-codes'
import { cursorAfter } from './cursor'
import { Emitter } from './emitter'
import { type FetchLike, HeraldHttpError, requestJson, resolveSseUrl, resolveWsUrl } from './http'
import { type InboxApi, inboxApi } from './inbox-api'
import { LruSet } from './lru'
import { Retractions } from './retractions'
import { frameText, OPEN, type WebSocketConstructor, type WebSocketLike } from './socket'
import { SseSocket, type Transport } from './sse'
import {
  type AuthErrorEvent,
  type ClientEvents,
  type ClientState,
  type HeraldMessage,
  MAX_IDS_PER_FRAME,
  type ServerFrame,
  type StatusEvent,
} from './types'

export interface ClientOptions {
  /** where herald answers `/auth`, `/inbox` and `/ws` @default '' (this page's origin) */
  baseUrl?: string
  /** the WebSocket endpoint, when it is not `<baseUrl>/ws` */
  wsUrl?: string
  /**
   * `auto`: a WebSocket, and Server-Sent Events (`<baseUrl>/sse`) once a WebSocket fails to
   * open (a proxy or firewall that blocks them) until `stop()`; `websocket` or `sse`: only that.
   * @default 'auto'
   */
  transport?: 'auto' | Transport
  /** the event-stream endpoint, when it is not `<baseUrl>/sse` (its frames go to `<baseUrl>/sse/frames`) */
  sseUrl?: string
  /** the session token (from `POST /auth/login`); called again before every ticket. null: signed out */
  getToken: () => string | null | undefined | Promise<string | null | undefined>
  /** the WebSocket constructor @default globalThis.WebSocket (pass the `ws` package's in Node 20) */
  WebSocket?: WebSocketConstructor
  /** @default globalThis.fetch */
  fetch?: FetchLike
  /** the session is no longer valid (401, 4401 twice in a row, 4409): sign the user in again */
  onAuthError?: (event: AuthErrorEvent) => void
  /** resume from this cursor on the first connect (e.g. one the app kept from an earlier run) */
  since?: string
  /** @default 500 */
  minReconnectDelay?: number
  /** @default 20000 */
  maxReconnectDelay?: number
  /** how long delivered ids wait to be acked together in one frame @default 100 */
  ackDelay?: number
  /** how many message ids are remembered to drop duplicates @default 2000 */
  dedupeCapacity?: number
  /**
   * how many messages with an `expiresAt` are watched for their expiry (one timer for all); past
   * it the latest-expiring are not announced (the server still drops them at their time) @default 1000
   */
  expiryCapacity?: number
  /** a connect attempt (ticket + socket + welcome) that takes longer is abandoned and retried @default 10000 */
  connectTimeout?: number
  /** random source in [0, 1) for the jitter @default Math.random */
  random?: () => number
}

export interface HeraldClient extends InboxApi {
  readonly status: ClientState
  /** the gateway replica of the current connection (from `welcome`); null when not connected */
  readonly replica: string | null
  readonly userId: string | null
  /**
   * this device's session (from `welcome`; it outlives reconnects): pass it as `exceptSessionId`
   * when asking your backend to send something this tab should not be echoed. null before the first welcome
   */
  readonly sessionId: string | null
  readonly connId: string | null
  /** the transport of the current (or next) connection */
  readonly transport: Transport
  /** the newest cursor seen: the next connection resumes from it */
  readonly lastCursor: string | undefined
  /** starts connecting (from idle, stopped or ended); does nothing when already connecting or connected */
  connect(): void
  /** closes the socket, cancels every timer (and forgets pending expiries); `connect()` may start it again */
  stop(): void
  on<K extends keyof ClientEvents>(event: K, fn: (payload: ClientEvents[K]) => void): () => void
}

const ACTIVE: ReadonlySet<ClientState> = new Set(['connecting', 'connected', 'reconnecting'])

/** A herald client: one WebSocket (or event stream, where WebSockets are blocked) that survives replica deaths and network drops without losing a message. */
export function createClient(options: ClientOptions): HeraldClient {
  const baseUrl = (options.baseUrl ?? '').replace(/\/+$/, '')
  const minDelay = options.minReconnectDelay ?? 500
  const maxDelay = options.maxReconnectDelay ?? 20_000
  const ackDelay = options.ackDelay ?? 100
  const connectTimeout = options.connectTimeout ?? 10_000
  const random = options.random ?? Math.random
  const fetchFn: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init))
  const firstTransport: Transport = options.transport === 'sse' ? 'sse' : 'websocket'

  const events = new Emitter<ClientEvents>()
  const seen = new LruSet(options.dedupeCapacity ?? 2000)
  const retractions = new Retractions({
    capacity: options.expiryCapacity ?? 1000,
    memory: options.dedupeCapacity ?? 2000,
    emit: (event) => events.emit('retract', event),
  })

  let state: ClientState = 'idle'
  let socket: WebSocketLike | null = null
  let transport = firstTransport
  /** the current socket opened (a WebSocket that never does is blocked somewhere: try SSE) */
  let opened = false
  let welcomed = false
  let replica: string | null = null
  let userId: string | null = null
  let sessionId: string | null = null
  let connId: string | null = null
  let lastCursor = options.since
  /** bumps on every attempt and on stop(): async work of an older attempt sees it and gives up */
  let attempt = 0
  /** failed attempts in a row, for the backoff */
  let step = 0
  /** 4401 closes in a row without a welcome in between */
  let unauthorized = 0
  let reconnectTimer: ReturnType<typeof setTimeout> | undefined
  let connectTimer: ReturnType<typeof setTimeout> | undefined
  let ackTimer: ReturnType<typeof setTimeout> | undefined
  let pendingAcks: string[] = []

  /** a listener may have stopped the client, or a page landed after stop(): then no timer starts */
  const watchExpiry = (message: HeraldMessage) => {
    if (state !== 'stopped' && state !== 'ended') retractions.track(message)
  }

  const setState = (newState: ClientState, extra: Omit<StatusEvent, 'newState' | 'oldState'> = {}) => {
    if (newState === state) return
    const oldState = state
    state = newState
    events.emit('status', { newState, oldState, ...extra })
  }

  const clearTimers = () => {
    clearTimeout(reconnectTimer)
    clearTimeout(connectTimer)
    clearTimeout(ackTimer)
    reconnectTimer = connectTimer = ackTimer = undefined
  }

  /** Forgets the current socket without reacting to its close. */
  const dropSocket = (code?: number) => {
    const ws = socket
    socket = null
    welcomed = false
    replica = connId = null
    if (!ws) return
    ws.onopen = ws.onmessage = ws.onclose = null
    // closing a socket still connecting makes it emit an error, which the ws package throws
    // when nobody listens (an uncaught exception in Node): keep a listener that ignores it
    ws.onerror = () => {}
    try {
      ws.close(code)
    } catch {}
  }

  const resolveWebSocket = (): WebSocketConstructor => {
    const ctor = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket
    if (!ctor) throw new Error('herald client: no WebSocket here; pass one (e.g. `WebSocket` from the ws package)')
    return ctor
  }

  const endSession = (status: number, message: string) => {
    attempt++
    clearTimers()
    pendingAcks = []
    retractions.clear()
    dropSocket()
    setState('ended', { code: status, reason: message })
    options.onAuthError?.({ status, message })
  }

  const scheduleReconnect = (delay: number, extra: Omit<StatusEvent, 'newState' | 'oldState'> = {}) => {
    clearTimeout(reconnectTimer)
    clearTimeout(connectTimer)
    setState('reconnecting', extra)
    reconnectTimer = setTimeout(() => void open(), delay)
  }

  const retryLater = (extra: Omit<StatusEvent, 'newState' | 'oldState'> = {}) => {
    scheduleReconnect(backoff(step++, minDelay, maxDelay, random), extra)
  }

  const flushAcks = () => {
    clearTimeout(ackTimer)
    ackTimer = undefined
    if (!socket || !welcomed || socket.readyState !== OPEN) return
    while (pendingAcks.length > 0) {
      socket.send(JSON.stringify({ type: 'ack', ids: pendingAcks.splice(0, MAX_IDS_PER_FRAME) }))
    }
  }

  const queueAck = (id: string) => {
    pendingAcks.push(id)
    if (pendingAcks.length >= MAX_IDS_PER_FRAME) flushAcks()
    else ackTimer ??= setTimeout(flushAcks, ackDelay)
  }

  const onFrame = (frame: ServerFrame, since: string | undefined) => {
    switch (frame.type) {
      case 'welcome': {
        clearTimeout(connectTimer)
        welcomed = true
        step = 0
        unauthorized = 0
        replica = frame.replica
        userId = frame.userId
        sessionId = frame.sessionId
        connId = frame.connId
        // not a message yet: a drop before the first one still resumes from where this socket began
        if (lastCursor === undefined && frame.cursor) lastCursor = frame.cursor
        setState('connected')
        events.emit('connected', {
          connId: frame.connId,
          userId: frame.userId,
          sessionId: frame.sessionId,
          replica: frame.replica,
          resumed: frame.resumed,
          transport,
        })
        if (frame.gap) events.emit('gap', { since })
        // receipts left over from a socket that closed before it could send them
        if (pendingAcks.length > 0) flushAcks()
        return
      }
      case 'message': {
        if (cursorAfter(frame.cursor, lastCursor)) lastCursor = frame.cursor
        queueAck(frame.id)
        if (!seen.add(frame.id)) return
        const { type: _type, ...message } = frame
        events.emit('message', message satisfies HeraldMessage)
        watchExpiry(message)
        return
      }
      case 'read':
        events.emit('read', { ids: frame.ids })
        events.emit('state', { state: 'read', ids: frame.ids })
        return
      case 'state': {
        const { type: _type, ...change } = frame
        events.emit('state', change)
        return
      }
      case 'retract':
        retractions.retracted(frame.ids)
        return
      case 'error':
        events.emit('error', { code: frame.code, message: frame.message })
        return
    }
  }

  /** A WebSocket that could not even open, while the client may choose: the next attempt is SSE. */
  const fallBack = (): boolean => {
    if (transport !== 'websocket' || opened || (options.transport ?? 'auto') !== 'auto') return false
    transport = 'sse'
    return true
  }

  const onClose = (code: number, reason: string) => {
    dropSocket()
    clearTimeout(ackTimer)
    ackTimer = undefined
    if (!ACTIVE.has(state)) return
    if (fallBack()) return scheduleReconnect(0, { code, reason: reason || 'WebSocket did not open; trying SSE' })
    if (code === CloseCode.SESSION_ENDED) return endSession(code, reason || 'session ended')
    if (code === CloseCode.UNAUTHORIZED) {
      // the ticket was bad, expired or reused: one fresh ticket (and token) at once; twice means the session is gone
      if (++unauthorized >= 2) return endSession(code, reason || 'unauthorized')
      return scheduleReconnect(0, { code, reason })
    }
    // a draining replica: everybody reconnects now, spread over the first backoff window
    if (code === CloseCode.SERVICE_RESTART) return scheduleReconnect(Math.floor(random() * minDelay), { code, reason })
    retryLater({ code, reason })
  }

  const open = async () => {
    const my = ++attempt
    clearTimeout(reconnectTimer)
    clearTimeout(connectTimer)
    connectTimer = setTimeout(() => {
      if (my !== attempt || welcomed) return
      attempt++
      dropSocket()
      retryLater({ reason: 'connect timeout' })
    }, connectTimeout)

    let token: string | null | undefined
    try {
      token = await options.getToken()
    } catch (err) {
      if (my !== attempt) return
      events.emit('error', { code: 'TOKEN', message: err instanceof Error ? err.message : String(err) })
      return retryLater()
    }
    if (my !== attempt) return
    if (!token) return endSession(401, 'no session token')

    let ticket: string
    try {
      ticket = (
        await requestJson<{ ticket: string }>(fetchFn, `${baseUrl}/auth/ws-ticket`, {
          method: 'POST',
          token,
          timeoutMs: connectTimeout,
        })
      ).ticket
    } catch (err) {
      if (my !== attempt) return
      if (err instanceof HeraldHttpError && err.status === 401) return endSession(401, err.message)
      const e = err instanceof HeraldHttpError ? err : new HeraldHttpError(0, 'NETWORK', String(err))
      events.emit('error', { code: e.code, message: e.message })
      return retryLater()
    }
    if (my !== attempt) return

    const since = lastCursor
    const url = transport === 'sse' ? resolveSseUrl(baseUrl, options.sseUrl) : resolveWsUrl(baseUrl, options.wsUrl)
    url.searchParams.set('ticket', ticket)
    if (since !== undefined) url.searchParams.set('since', since)
    let ws: WebSocketLike
    try {
      ws =
        transport === 'sse'
          ? new SseSocket(url.toString(), { fetch: fetchFn, post: postFrame })
          : new (resolveWebSocket())(url.toString())
    } catch (err) {
      events.emit('error', { code: 'WEBSOCKET', message: err instanceof Error ? err.message : String(err) })
      if (fallBack()) return scheduleReconnect(0)
      return retryLater()
    }
    socket = ws
    opened = false
    welcomed = false
    ws.onopen = () => {
      if (socket === ws) opened = true
    }
    ws.onmessage = (event) => {
      if (socket !== ws) return
      const text = frameText(event.data)
      let frame: ServerFrame
      try {
        frame = JSON.parse(text ?? '') as ServerFrame
      } catch {
        return
      }
      if (frame && typeof frame === 'object') onFrame(frame, since)
    }
    ws.onclose = (event) => {
      if (socket === ws) onClose(event.code, event.reason)
    }
    // a close event always follows an error event
    ws.onerror = () => {}
  }

  const inboxPages = inboxApi(authed)
  const client: HeraldClient = {
    get status() {
      return state
    },
    get replica() {
      return replica
    },
    get userId() {
      return userId
    },
    get sessionId() {
      return sessionId
    },
    get connId() {
      return connId
    },
    get transport() {
      return transport
    },
    get lastCursor() {
      return lastCursor
    },
    connect() {
      if (ACTIVE.has(state)) return
      step = 0
      unauthorized = 0
      transport = firstTransport
      setState('connecting')
      void open()
    },
    stop() {
      attempt++
      flushAcks()
      clearTimers()
      retractions.clear()
      dropSocket(CloseCode.NORMAL)
      if (state !== 'ended') setState('stopped')
    },
    on: (event, fn) => events.on(event, fn),
    ...inboxPages,
    async inbox(query) {
      const page = await inboxPages.inbox(query)
      for (const item of page.items) watchExpiry(item)
      return page
    },
  }

  /** A client frame (ack) of a connection over SSE, which only reads: `POST /sse/frames` on any gateway. */
  function postFrame(frame: string): void {
    authed('/sse/frames', JSON.parse(frame)).catch((err: unknown) => {
      const e = err instanceof HeraldHttpError ? err : new HeraldHttpError(0, 'NETWORK', String(err))
      events.emit('error', { code: e.code, message: e.message })
    })
  }

  /** A session call; a 401 also tells the app through onAuthError. */
  async function authed<T>(path: string, body?: unknown, method = body === undefined ? 'GET' : 'POST'): Promise<T> {
    const token = await options.getToken()
    if (!token) throw new HeraldHttpError(401, 'UNAUTHORIZED', 'not signed in')
    try {
      return await requestJson<T>(fetchFn, `${baseUrl}${path}`, {
        method,
        token,
        ...(body !== undefined ? { body } : {}),
      })
    } catch (err) {
      if (err instanceof HeraldHttpError && err.status === 401)
        options.onAuthError?.({ status: 401, message: err.message })
      throw err
    }
  }

  return client
}
