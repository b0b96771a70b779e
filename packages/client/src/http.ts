/** An HTTP call to herald that did not succeed; `code` is herald's stable error code when it sent one. */
export class HeraldHttpError extends Error {
  override readonly name = 'HeraldHttpError'

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>

export interface RequestOptions {
  method?: string
  token?: string | null
  body?: unknown
  timeoutMs?: number
}

/** JSON over fetch with the session token as a Bearer header; throws HeraldHttpError on any non-2xx. */
export async function requestJson<T>(fetchFn: FetchLike, url: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' }
  if (opts.token) headers.authorization = `Bearer ${opts.token}`
  if (opts.body !== undefined) headers['content-type'] = 'application/json'
  const init: RequestInit = { method: opts.method ?? 'GET', headers }
  if (opts.body !== undefined) init.body = JSON.stringify(opts.body)
  if (opts.timeoutMs && typeof AbortSignal.timeout === 'function') init.signal = AbortSignal.timeout(opts.timeoutMs)
  let res: Response
  try {
    res = await fetchFn(url, init)
  } catch (err) {
    throw new HeraldHttpError(0, 'NETWORK', err instanceof Error ? err.message : String(err))
  }
  const text = await res.text()
  let body: unknown = null
  if (text) {
    try {
      body = JSON.parse(text)
    } catch {
      body = text
    }
  }
  if (!res.ok) {
    const e = (body && typeof body === 'object' ? body : {}) as { code?: unknown; message?: unknown }
    throw new HeraldHttpError(
      res.status,
      typeof e.code === 'string' ? e.code : `HTTP_${res.status}`,
      typeof e.message === 'string' ? e.message : `${init.method} ${url} → ${res.status}`,
    )
  }
  return body as T
}

/**
 * `http(s)://host/base` → `ws(s)://host/base/ws`, or `wsUrl` when given; relative URLs
 * resolve against the page.
 */
export function resolveWsUrl(baseUrl: string, wsUrl?: string): URL {
  const page = (globalThis as { location?: { href: string } }).location?.href
  const url = new URL(wsUrl ?? `${baseUrl.replace(/\/+$/, '')}/ws`, page)
  if (url.protocol === 'https:') url.protocol = 'wss:'
  else if (url.protocol === 'http:') url.protocol = 'ws:'
  return url
}

/** `<baseUrl>/sse`, or `sseUrl` when given; relative URLs resolve against the page. */
export function resolveSseUrl(baseUrl: string, sseUrl?: string): URL {
  const page = (globalThis as { location?: { href: string } }).location?.href
  return new URL(sseUrl ?? `${baseUrl.replace(/\/+$/, '')}/sse`, page)
}
