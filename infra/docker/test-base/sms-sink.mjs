// A stand-in SMS gateway for `pnpm test:compose`: auth's `webhook` provider POSTs {to, text}
// here, and the suite reads the last code sent to a phone from GET /codes/<phone>. It runs
// on the compose network; only the test's loopback port reaches it.
import { createServer } from 'node:http'

const last = new Map()
createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/send') {
    let body = ''
    req.on('data', (c) => {
      body += c
    })
    req.on('end', () => {
      try {
        const { to, text } = JSON.parse(body)
        const code = String(text).match(/\d{4,8}/)?.[0]
        if (typeof to !== 'string' || !code) throw new Error('no phone or code')
        last.set(to, code)
        res.writeHead(204).end()
      } catch {
        res.writeHead(400).end()
      }
    })
    return
  }
  const m = req.method === 'GET' && req.url?.match(/^\/codes\/([^/?]+)$/)
  const code = m && last.get(decodeURIComponent(m[1]))
  if (code) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ code }))
  else res.writeHead(404).end()
}).listen(8025, '0.0.0.0')
