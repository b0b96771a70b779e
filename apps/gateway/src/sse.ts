import type { OutgoingHttpHeaders, ServerResponse } from 'node:http'
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

/**
 * A Server-Sent Events response as a sink. Every frame is one event: `data:` is the frame's
 * JSON (one line: JSON never holds a raw newline), `id:` its cursor when it has one, so an
 * EventSource's `Last-Event-ID` resumes exactly like `since`. A close is an `event: close`
 * whose data is `{"code","reason"}` — the WebSocket close codes — and then the end of the
 * response. Pings are comment lines: one that the kernel has not taken by the next ping is a
 * missed pong, so a client that stopped reading is cut like a silent WebSocket.
 */
export class SseSink implements Sink {
  readonly transport = 'sse'
  private closedWith: number | null = null
  private readonly pongs: (() => void)[] = []

  /** `headers`: what the app already set on the reply (CORS, security headers), kept under the stream's own */
  constructor(
    private readonly res: ServerResponse,
    retryMs: number,
    headers: Record<string, string | number | string[] | undefined> = {},
  ) {
    res.writeHead(200, { ...headers, ...SSE_HEADERS } as OutgoingHttpHeaders)
    // how long an EventSource waits before it reconnects on its own
    res.write(`retry: ${retryMs}\n\n`)
  }

  get open(): boolean {
    return this.closedWith === null && !this.res.destroyed && !this.res.writableEnded
  }
  get bufferedAmount(): number {
    return this.res.writableLength
  }
  send(frame: Buffer | string, cursor: string | null): void {
    const res = this.res
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
    this.res.end(`event: close\ndata: ${JSON.stringify({ code, reason })}\n\n`)
  }
  terminate(): void {
    this.res.destroy()
  }
  ping(): void {
    if (!this.open) return
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
