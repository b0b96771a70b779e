import http from 'node:http'
import { waitFor } from '@herald/test-utils'
import type { Frame } from './helpers'

/** One event of a stream, as an EventSource would hand it over. */
export interface SseEvent {
  event: string
  id: string | null
  data: string
}

/**
 * A client of `GET /sse` over plain node:http, with nothing hidden: the status and headers,
 * every event with its `id:`, the `retry:` and the comments, and the close event. (Node 20
 * has no EventSource; this parses the same format it does.)
 */
export class SseClient {
  status = 0
  headers: http.IncomingHttpHeaders = {}
  body = ''
  readonly events: SseEvent[] = []
  readonly comments: string[] = []
  retry: number | null = null
  /** the `event: close` data, or 1006 when the stream ended without one */
  readonly closed: Promise<{ code: number; reason: string }>
  /** resolves with the status once the response headers arrived */
  readonly opened: Promise<number>
  req!: http.ClientRequest
  res: http.IncomingMessage | null = null
  private buf = ''
  private cursor = 0

  constructor(url: string, headers: Record<string, string> = {}) {
    let onOpen: (s: number) => void = () => {}
    this.opened = new Promise((r) => {
      onOpen = r
    })
    this.closed = new Promise((resolve) => {
      this.req = http.get(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
        this.res = res
        this.status = res.statusCode ?? 0
        this.headers = res.headers
        onOpen(this.status)
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          if (this.status !== 200) this.body += chunk
          else this.parse(chunk)
        })
        const done = () => {
          const close = this.events.find((e) => e.event === 'close')
          resolve(close ? (JSON.parse(close.data) as { code: number; reason: string }) : { code: 1006, reason: '' })
        }
        res.on('end', done)
        res.on('close', done)
      })
      this.req.on('error', () => {
        onOpen(0)
        resolve({ code: 1006, reason: '' })
      })
    })
  }

  private parse(chunk: string): void {
    this.buf += chunk
    let end = this.buf.indexOf('\n\n')
    while (end >= 0) {
      const block = this.buf.slice(0, end)
      this.buf = this.buf.slice(end + 2)
      const ev: SseEvent = { event: 'message', id: null, data: '' }
      let hasData = false
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) this.comments.push(line.slice(1).trim())
        else if (line.startsWith('retry: ')) this.retry = Number(line.slice(7))
        else if (line.startsWith('id: ')) ev.id = line.slice(4)
        else if (line.startsWith('event: ')) ev.event = line.slice(7)
        else if (line.startsWith('data: ')) {
          ev.data += line.slice(6)
          hasData = true
        }
      }
      if (hasData) this.events.push(ev)
      end = this.buf.indexOf('\n\n')
    }
  }

  /** A refusal before the stream started: its status, JSON body and Retry-After. */
  async refused(): Promise<{ status: number; body: { code?: string; message?: string }; retryAfter?: string }> {
    await this.closed
    const retryAfter = this.headers['retry-after'] as string | undefined
    return { status: this.status, body: this.body ? JSON.parse(this.body) : {}, ...(retryAfter ? { retryAfter } : {}) }
  }

  /** The frames (the `data:` of the unnamed events), in order. */
  get frames(): Frame[] {
    return this.events.filter((e) => e.event === 'message').map((e) => JSON.parse(e.data) as Frame)
  }

  /** The next unseen frame of a type, with the event's id. */
  async next(type: string, timeoutMs = 5000): Promise<Frame & { eventId: string | null }> {
    return waitFor(
      () => {
        for (let i = this.cursor; i < this.events.length; i++) {
          const e = this.events[i] as SseEvent
          if (e.event !== 'message') continue
          const f = JSON.parse(e.data) as Frame
          if (f.type === type) {
            this.cursor = i + 1
            return { ...f, eventId: e.id }
          }
        }
        return undefined
      },
      timeoutMs,
      5,
    ) as Promise<Frame & { eventId: string | null }>
  }

  messages(): string[] {
    return this.frames.filter((f) => f.type === 'message').map((f) => f.id as string)
  }

  /** The last `id:` seen: what an EventSource sends as Last-Event-ID when it reconnects. */
  lastEventId(): string | null {
    for (let i = this.events.length - 1; i >= 0; i--) if (this.events[i]?.id) return this.events[i]?.id ?? null
    return null
  }

  close(): void {
    this.req.destroy()
  }
}
