/**
 * The part of a WebSocket the client uses: the browser's `WebSocket`, Node 22's global one
 * and the `ws` package's class all fit. Handlers are declared bivariant so that constructors
 * whose events carry more fields than these still type-check.
 */
type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack']

export interface WebSocketLike {
  readonly readyState: number
  onopen: Handler<unknown> | null
  onmessage: Handler<{ data: unknown }> | null
  onclose: Handler<{ code: number; reason: string }> | null
  onerror: Handler<unknown> | null
  send(data: string): void
  close(code?: number, reason?: string): void
}

export type WebSocketConstructor = new (url: string) => WebSocketLike

export const OPEN = 1

const decoder = /* @__PURE__ */ new TextDecoder()

/** Text frames arrive as strings in browsers; some Node sockets hand over bytes. */
export function frameText(data: unknown): string | null {
  if (typeof data === 'string') return data
  if (data instanceof ArrayBuffer) return decoder.decode(data)
  if (ArrayBuffer.isView(data)) return decoder.decode(data)
  return null
}
