import { request } from 'node:http'

export interface RawResponse<T = unknown> {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: T
}

/**
 * One HTTP request from a chosen loopback source address (127.0.0.x), so a test can be
 * "many clients" to nginx and show which address a per-IP limit keys on.
 */
export function httpFrom<T = unknown>(
  localAddress: string,
  url: string,
  method: string,
  opts: { body?: unknown; headers?: Record<string, string>; token?: string } = {},
): Promise<RawResponse<T>> {
  const u = new URL(url)
  const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body)
  const headers: Record<string, string> = { ...opts.headers }
  if (payload !== undefined) headers['content-type'] = 'application/json'
  if (opts.token) headers.authorization = `Bearer ${opts.token}`
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, path: `${u.pathname}${u.search}`, method, headers, localAddress, agent: false },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          let body: unknown = text
          try {
            body = text ? JSON.parse(text) : null
          } catch {}
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: body as T })
        })
      },
    )
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${url} timed out`)))
    req.on('error', reject)
    if (payload !== undefined) req.write(payload)
    req.end()
  })
}

let next = 10
/** A loopback source address no other caller in this process got (127.0.0.10 … 127.0.0.250, then 127.0.1.x …). */
export function freshAddress(): string {
  const n = next++
  return `127.0.${Math.floor(n / 240)}.${10 + (n % 240)}`
}
