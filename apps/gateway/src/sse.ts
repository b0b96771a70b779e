import type { OutgoingHttpHeaders, ServerResponse } from 'node:http'
import { CloseCode, ErrorCode } from '@herald/contracts'
import type { Sink } from './sink'

/** The response headers of an event stream: never cached, never buffered by a proxy. */
export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-store, no-transform',
  connection: 'keep-alive',
  // nginx would otherwise hold events back until its buffer fills
  'x-accel-buffering': 'no',
  'x-content-type-options': 'nosniff',
} as const

/** The status the close event carries when the client went away on its own. */
const GONE = 1006

type Headers = Record<string, string | number | string[] | undefined>

/**
 * A refusal before the stream started, as an HTTP error: an EventSource stops on a non-200
 * answer instead of retrying the same (spent) ticket every `retry:`, and nginx hands a 503
 * (drain, full replica) to the next gateway on its own.
 */
function refusal(
  code: number,
  reason: string,
): { status: number; code: ErrorCode; error: string; retryAfter?: string } {
  switch (code) {
    case CloseCode.UNAUTHORIZED:
    case CloseCode.SESSION_ENDED:
      return { status: 401, code: ErrorCode.UNAUTHORIZED, error: 'Unauthorized' }
    case CloseCode.POLICY_VIOLATION:
      return { status: 429, code: ErrorCode.TOO_MANY_REQUESTS, error: 'Too Many Requests' }
    default: {
      const retryAfter = /retry-after=(\d+)/.exec(reason)?.[1]
      return {
        status: 503,
        code: ErrorCode.SERVICE_UNAVAILABLE,
        error: 'Service Unavailable',
        ...(retryAfter ? { retryAfter } : {}),
      }
    }
  }
}

/**
 * A Server-Sent Events response as a sink. The stream starts (200, `retry:`) with its first
 * frame, the `welcome`; a client refused before that (bad ticket, too many connections,
 * drain, full replica) gets an HTTP error instead (see `refusal`). Every frame is one event:
 * `data:` is the frame's JSON (one line: JSON never holds a raw newline), `id:` its cursor
 * when it has one, so an EventSource's `Last-Event-ID` resumes exactly like `since`. A close
 * of a started stream is an `event: close` whose data is `{"code","reason"}` — the WebSocket
 * close codes — and then the end of the response. Pings are comment lines: one that the kernel has not taken by the next ping is a
 * missed pong, so a client that stopped reading is cut like a silent WebSocket.
 */
export class SseSink implements Sink {
  readonly transport = 'sse'
  private closedWith: number | null = null
  private started = false
  private readonly pongs: (() => void)[] = []

  /** `headers`: what the app already set on the reply (CORS, security headers), kept under the stream's own */
  constructor(
    private readonly res: ServerResponse,
    private readonly retryMs: number,
    private readonly headers: Headers = {},
  ) {}

  private start(): void {
    if (this.started) return
    this.started = true
    this.res.writeHead(200, { ...this.headers, ...SSE_HEADERS } as OutgoingHttpHeaders)
    // how long an EventSource waits before it reconnects on its own
    this.res.write(`retry: ${this.retryMs}\n\n`)
  }

  get open(): boolean {
    return this.closedWith === null && !this.res.destroyed && !this.res.writableEnded
  }
  get bufferedAmount(): number {
    return this.res.writableLength
  }
  send(frame: Buffer | string, cursor: string | null): void {
    const res = this.res
    this.start()
    res.cork()
    if (cursor !== null) res.write(`id: ${cursor}\n`)
    res.write('data: ')
    res.write(frame)
    res.write('\n\n')
    res.uncork()
  }
  close(code: number, reason: string): void {
    if (!this.open) return
    this.closedWith = code
    if (this.started) {
      this.res.end(`event: close\ndata: ${JSON.stringify({ code, reason })}\n\n`)
      return
    }
    const r = refusal(code, reason)
    this.res.writeHead(r.status, {
      ...this.headers,
      'content-type': 'application/json; charset=utf-8',
      'x-content-type-options': 'nosniff',
      ...(r.retryAfter ? { 'retry-after': r.retryAfter } : {}),
    } as OutgoingHttpHeaders)
    this.res.end(JSON.stringify({ statusCode: r.status, code: r.code, error: r.error, message: reason }))
  }
  terminate(): void {
    this.res.destroy()
  }
  ping(): void {
    if (!this.open) return
    this.start()
    this.res.write(': ping\n\n', () => {
      for (const l of this.pongs) l()
    })
  }
  onPong(listener: () => void): void {
    this.pongs.push(listener)
  }
  onClose(listener: (code: number) => void): void {
    if (this.res.closed) listener(this.closedWith ?? GONE)
    else this.res.once('close', () => listener(this.closedWith ?? GONE))
  }
  onFrame(): void {}
  pause(): void {}
  resume(): void {}
}
