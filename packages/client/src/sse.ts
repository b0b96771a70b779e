import type { FetchLike } from './http'
import type { WebSocketLike } from './socket'

/** A transport the client can hold: WebSocket first, Server-Sent Events where WebSockets are blocked. */
export type Transport = 'websocket' | 'sse'

const CONNECTING = 0
const OPEN = 1
const CLOSED = 3
/** what a WebSocket reports when the connection dropped without a close frame */
const ABNORMAL = 1006
const TRY_AGAIN_LATER = 1013
const UNAUTHORIZED = 4401

/**
 * A stream refused before it started answers with an HTTP error (docs/protocol.md): read as
 * the close code a socket would have got, so the client reacts the same way.
 */
async function refusal(res: Response): Promise<{ code: number; reason: string }> {
  let reason = `HTTP ${res.status}`
  try {
    const body = (await res.json()) as { message?: unknown }
    if (typeof body.message === 'string') reason = body.message
  } catch {}
  if (res.status === 401) return { code: UNAUTHORIZED, reason }
  if (res.status === 429 || res.status === 503) return { code: TRY_AGAIN_LATER, reason }
  return { code: ABNORMAL, reason }
}

export interface SseOptions {
  fetch: FetchLike
  /** sends one client frame (ack) the way the event stream cannot: an HTTP call */
  post(frame: string): void
}

/**
 * herald's event stream (`GET /sse`) behind the WebSocket shape the client already drives:
 * each `data:` event is a frame (`onmessage`), the `event: close` and the end of the stream
 * are `onclose` with the WebSocket close code, and `send` posts the frame. Read with fetch
 * rather than EventSource: EventSource cannot say why it failed (no status), and it would
 * reconnect on its own with the same single-use ticket — the client reconnects itself, with
 * a fresh ticket and `since`, exactly as over a WebSocket.
 */
export class SseSocket implements WebSocketLike {
  readyState = CONNECTING
  onopen: WebSocketLike['onopen'] = null
  onmessage: WebSocketLike['onmessage'] = null
  onclose: WebSocketLike['onclose'] = null
  onerror: WebSocketLike['onerror'] = null
  private readonly abort = new AbortController()

  constructor(
    url: string,
    private readonly opts: SseOptions,
  ) {
    void this.run(url)
  }

  send(data: string): void {
    if (this.readyState === OPEN) this.opts.post(data)
  }

  close(): void {
    this.readyState = CLOSED
    this.abort.abort()
  }

  private async run(url: string): Promise<void> {
    let closeWith = { code: ABNORMAL, reason: '' }
    try {
      const res = await this.opts.fetch(url, {
        headers: { accept: 'text/event-stream' },
        cache: 'no-store',
        signal: this.abort.signal,
      })
      if (!res.ok || !res.body) {
        closeWith = await refusal(res)
        return
      }
      this.readyState = OPEN
      this.onopen?.({})
      closeWith = (await this.read(res.body)) ?? closeWith
    } catch {
      // aborted by close(), or the network dropped: a close event without a code
    } finally {
      // the gateway ends the stream after its close event; nothing more is read either way
      this.abort.abort()
      const wasClosed = this.readyState === CLOSED
      this.readyState = CLOSED
      if (!wasClosed) this.onclose?.(closeWith)
    }
  }

  /** Dispatches the stream's events until it ends; returns the close event's code and reason if one came. */
  private async read(body: ReadableStream<Uint8Array>): Promise<{ code: number; reason: string } | null> {
    const reader = body.getReader()
    const decoder = new TextDecoder()
    let buf = ''
    for (;;) {
      const { value, done } = await reader.read()
      if (done) return null
      buf += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n')
      let end = buf.indexOf('\n\n')
      while (end >= 0) {
        const closed = this.dispatch(buf.slice(0, end))
        if (closed) return closed
        buf = buf.slice(end + 2)
        end = buf.indexOf('\n\n')
      }
    }
  }

  private dispatch(block: string): { code: number; reason: string } | null {
    let event = 'message'
    const data: string[] = []
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue
      const colon = line.indexOf(':')
      const field = colon < 0 ? line : line.slice(0, colon)
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
      if (field === 'event') event = value
      else if (field === 'data') data.push(value)
    }
    if (data.length === 0) return null
    const text = data.join('\n')
    if (event === 'close') {
      try {
        const c = JSON.parse(text) as { code?: unknown; reason?: unknown }
        return {
          code: typeof c.code === 'number' ? c.code : ABNORMAL,
          reason: typeof c.reason === 'string' ? c.reason : '',
        }
      } catch {
        return { code: ABNORMAL, reason: '' }
      }
    }
    if (event === 'message' && this.readyState === OPEN) this.onmessage?.({ data: text })
    return null
  }
}
