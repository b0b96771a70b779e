import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'

export interface Received {
  headers: IncomingHttpHeaders
  body: string
  /** the payload when the signature verified (standardwebhooks' own check), null when it did not */
  verified: unknown
}

/**
 * A webhook receiver on 127.0.0.1 that verifies every delivery with the `standardwebhooks`
 * library (not herald's signer) and answers what `answer` says for each request.
 */
export async function startReceiver(opts: { secret?: () => string; answer?: (n: number) => number | 'hang' } = {}) {
  const received: Received[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      let verified: unknown = null
      const secret = opts.secret?.()
      if (secret) {
        try {
          verified = new Webhook(secret).verify(body, req.headers as Record<string, string>)
        } catch {
          verified = null
        }
      }
      received.push({ headers: req.headers, body, verified })
      const answer = opts.answer?.(received.length) ?? 200
      if (answer === 'hang') return
      if (answer >= 300 && answer < 400) res.setHeader('location', 'http://127.0.0.1:1/elsewhere')
      res.statusCode = answer
      res.end('ok')
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  return {
    received,
    port,
    url: `http://127.0.0.1:${port}/hooks`,
    async close() {
      server.closeAllConnections()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
}
