import { Agent, request } from 'node:http'
import type { User } from './systems'

const agent = new Agent({ keepAlive: true, maxSockets: 32 })

function call(base: string, method: string, path: string, body?: unknown) {
  return new Promise<{ status: number; json: Record<string, unknown>; cookie?: string }>((resolve, reject) => {
    const u = new URL(path, base)
    const text = body === undefined ? undefined : JSON.stringify(body)
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method,
        agent,
        timeout: 10_000,
        headers: text ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } : {},
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          let json: Record<string, unknown> = {}
          try {
            json = JSON.parse(Buffer.concat(chunks).toString())
          } catch {}
          const c = res.headers['set-cookie']?.[0]
          resolve({ status: res.statusCode ?? 0, json, ...(c ? { cookie: c.split(';')[0] } : {}) })
        })
      },
    )
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', reject)
    req.end(text)
  })
}

/**
 * Logs `n` new users in through a system's public API (code, dev SMS, login), 16 at a
 * time. The token is the bearer session token, or the session cookie for express-session.
 */
export async function login(base: string, n: number, offset: number, kind: 'bearer' | 'cookie'): Promise<User[]> {
  const out: User[] = new Array(n)
  let next = 0
  const worker = async () => {
    while (next < n) {
      const i = next++
      const phone = `+86138${String(offset + i).padStart(8, '0')}`
      const sent = await call(base, 'POST', '/auth/code', { phone })
      if (sent.status !== 202) throw new Error(`POST /auth/code → ${sent.status} ${JSON.stringify(sent.json)}`)
      const sms = await call(base, 'GET', `/auth/dev/sms/${encodeURIComponent(phone)}`)
      const res = await call(base, 'POST', '/auth/login', { phone, code: sms.json.code, device: 'bench' })
      if (res.status !== 200) throw new Error(`POST /auth/login → ${res.status} ${JSON.stringify(res.json)}`)
      const user = res.json.user as { id: string }
      const token = kind === 'cookie' ? (res.cookie ?? '') : (res.json.token as string)
      out[i] = { id: user.id, token }
    }
  }
  await Promise.all(Array.from({ length: Math.min(16, n) }, worker))
  return out
}
