import type { RawData, WebSocket } from 'ws'

/** Which wire a client holds: a WebSocket, or a Server-Sent Events stream (the fallback). */
export type Transport = 'ws' | 'sse'

/**
 * What a connection writes to and closes, whatever the transport: admission, replay,
 * delivery, control entries, keep-alive and drain only ever see this.
 */
export interface Sink {
  readonly transport: Transport
  /** still open and writable */
  readonly open: boolean
  /** bytes queued for the client and not yet handed to the kernel */
  readonly bufferedAmount: number
  /** one frame; `cursor` is its resume position (a message's cursor, a fresh welcome's start) */
  send(frame: Buffer | string, cursor: string | null): void
  /** says why (a close code the client reads) and ends the connection once that left */
  close(code: number, reason: string): void
  /** cuts the connection at once */
  terminate(): void
  /** a liveness probe; `onPong` listeners hear when it got through */
  ping(): void
  onPong(listener: () => void): void
  /** called once, with the close code (1006 when the client went away) */
  onClose(listener: (code: number) => void): void
  /** client frames (WebSocket only: over SSE they come as HTTP requests) */
  onFrame(listener: (data: RawData, isBinary: boolean) => void): void
  /** stops and resumes reading client frames (before the client is registered) */
  pause(): void
  resume(): void
}

const SEND_OPTS = { binary: false } as const

/** A WebSocket as a sink: frames are text messages, close codes are WebSocket close codes. */
export class WsSink implements Sink {
  readonly transport = 'ws'

  constructor(readonly ws: WebSocket) {}

  get open(): boolean {
    return this.ws.readyState === this.ws.OPEN
  }
  get bufferedAmount(): number {
    return this.ws.bufferedAmount
  }
  send(frame: Buffer | string): void {
    this.ws.send(frame, SEND_OPTS)
  }
  close(code: number, reason: string): void {
    const ws = this.ws
    if (ws.readyState !== ws.OPEN && ws.readyState !== ws.CONNECTING) return
    // a paused socket would never read the client's answer to our close frame
    ws.resume()
    ws.close(code, reason)
  }
  terminate(): void {
    this.ws.terminate()
  }
  ping(): void {
    this.ws.ping()
  }
  onPong(listener: () => void): void {
    this.ws.on('pong', listener)
  }
  onClose(listener: (code: number) => void): void {
    if (this.ws.readyState === this.ws.CLOSED) listener(1006)
    // 'close' is emitted once per WebSocket: the listener itself, not once()'s wrapper around a
    // closure (four objects for each listener of each socket)
    else this.ws.on('close', listener)
  }
  onFrame(listener: (data: RawData, isBinary: boolean) => void): void {
    this.ws.on('message', listener)
  }
  pause(): void {
    this.ws.pause()
  }
  resume(): void {
    this.ws.resume()
  }
}
