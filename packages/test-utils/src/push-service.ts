import { execFileSync } from 'node:child_process'
import { createDecipheriv, createECDH, createHmac, createPublicKey, randomBytes, verify } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import type { IncomingHttpHeaders } from 'node:http'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * The push-service side of Web Push, for tests: an https server on 127.0.0.1 (a self-signed
 * certificate made with openssl; the sender trusts it through its agent's `ca`) that, like a
 * browser vendor's push service, checks the VAPID authorization (RFC 8292: ES256 JWT whose
 * `aud` is the endpoint's origin, `exp` within 24 h, `k` the signer's key) and — standing in for
 * the browser — decrypts the aes128gcm payload (RFC 8188 / 8291) with the subscription's
 * private key and auth secret. Written from the RFCs with node:crypto, sharing no code with
 * the sending library.
 */

export interface PushReceived {
  /** the subscription's path (`/push/<name>`) */
  path: string
  headers: IncomingHttpHeaders
  /** the VAPID check's result: null when it passed, else what failed */
  vapidProblem: string | null
  /** the JWT's claims when the signature verified */
  claims: { aud?: string; exp?: number; sub?: string } | null
  /** the decrypted payload (utf8), null when decryption failed */
  payload: string | null
  /** when it arrived (epoch ms) */
  at: number
}

/** A browser's subscription as the test holds it: the public part for the sender, the private part for decrypting. */
export interface TestSubscription {
  endpoint: string
  keys: { p256dh: string; auth: string }
}

function b64u(s: string): Buffer {
  return Buffer.from(s, 'base64url')
}

function hmac(key: Buffer, data: Buffer): Buffer {
  return createHmac('sha256', key).update(data).digest()
}

/** RFC 8292 §2–3: `vapid t=<jwt>, k=<key>`; returns what is wrong, or null, and the claims. */
export function checkVapid(
  authorization: string | undefined,
  origin: string,
  now = Date.now(),
): { problem: string | null; claims: PushReceived['claims'] } {
  const m = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(authorization ?? '')
  if (!m) return { problem: 'no vapid authorization', claims: null }
  const [h, p, s] = (m[1] as string).split('.')
  if (!h || !p || !s) return { problem: 'malformed jwt', claims: null }
  const header = JSON.parse(b64u(h).toString('utf8')) as { alg?: string; typ?: string }
  if (header.alg !== 'ES256') return { problem: `alg ${header.alg}`, claims: null }
  const raw = b64u(m[2] as string)
  if (raw.length !== 65 || raw[0] !== 4) return { problem: 'k is not an uncompressed P-256 key', claims: null }
  const key = createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: raw.subarray(1, 33).toString('base64url'),
      y: raw.subarray(33).toString('base64url'),
    },
    format: 'jwk',
  })
  const ok = verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, b64u(s))
  if (!ok) return { problem: 'bad signature', claims: null }
  const claims = JSON.parse(b64u(p).toString('utf8')) as NonNullable<PushReceived['claims']>
  if (claims.aud !== origin) return { problem: `aud ${claims.aud} is not ${origin}`, claims }
  const nowS = Math.floor(now / 1000)
  if (typeof claims.exp !== 'number' || claims.exp <= nowS || claims.exp > nowS + 24 * 3600)
    return { problem: 'exp missing, past or more than 24 h ahead', claims }
  if (!claims.sub || !/^(mailto:|https:)/.test(claims.sub)) return { problem: 'sub is not mailto: or https:', claims }
  return { problem: null, claims }
}

/** RFC 8291 §3.4 + RFC 8188 §2: one aes128gcm body, decrypted with the user agent's keys. */
export function decryptAes128gcm(body: Buffer, uaPrivate: Buffer, uaPublic: Buffer, authSecret: Buffer): string {
  const salt = body.subarray(0, 16)
  const rs = body.readUInt32BE(16)
  const idlen = body[20] as number
  const asPublic = body.subarray(21, 21 + idlen)
  const records = body.subarray(21 + idlen)
  if (idlen !== 65 || records.length > rs) throw new Error('one record with the sender key id expected')
  const ecdh = createECDH('prime256v1')
  ecdh.setPrivateKey(uaPrivate)
  const ecdhSecret = ecdh.computeSecret(asPublic)
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), uaPublic, asPublic])
  const ikm = hmac(hmac(authSecret, ecdhSecret), Buffer.concat([keyInfo, Buffer.from([1])]))
  const prk = hmac(salt, ikm)
  const cek = hmac(prk, Buffer.from('Content-Encoding: aes128gcm\0\x01')).subarray(0, 16)
  const nonce = hmac(prk, Buffer.from('Content-Encoding: nonce\0\x01')).subarray(0, 12)
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce)
  decipher.setAuthTag(records.subarray(records.length - 16))
  const plain = Buffer.concat([decipher.update(records.subarray(0, records.length - 16)), decipher.final()])
  let end = plain.length - 1
  while (end >= 0 && plain[end] === 0) end--
  if (plain[end] !== 2) throw new Error('last record delimiter missing')
  return plain.subarray(0, end).toString('utf8')
}

/**
 * Starts the push service. `answer(n, path)` gives the status of the n-th request (201 by
 * default): 404/410 for a gone subscription, 429/500 for retries. `subscribe(name)` makes a
 * browser-side subscription on it.
 */
export async function startPushService(opts: { answer?: (n: number, path: string) => number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'herald-push-'))
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  )
  const cert = readFileSync(join(dir, 'cert.pem'))
  const key = readFileSync(join(dir, 'key.pem'))
  rmSync(dir, { recursive: true, force: true })

  const browsers = new Map<string, { priv: Buffer; pub: Buffer; auth: Buffer }>()
  const received: PushReceived[] = []
  let origin = ''
  const server: Server = createServer({ cert, key }, (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const path = req.url ?? ''
      const { problem, claims } = checkVapid(req.headers.authorization, origin)
      const b = browsers.get(path)
      let payload: string | null = null
      if (b && req.headers['content-encoding'] === 'aes128gcm') {
        try {
          payload = decryptAes128gcm(Buffer.concat(chunks), b.priv, b.pub, b.auth)
        } catch {
          payload = null
        }
      }
      received.push({ path, headers: req.headers, vapidProblem: problem, claims, payload, at: Date.now() })
      const status = problem ? 403 : b ? (opts.answer?.(received.length, path) ?? 201) : 404
      if (status === 429) res.setHeader('retry-after', '1')
      res.statusCode = status
      if (status === 201) res.setHeader('location', `${origin}/message/${received.length}`)
      res.end()
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  origin = `https://127.0.0.1:${port}`
  return {
    received,
    origin,
    /** the certificate to trust (the sender's agent `ca`) */
    ca: cert,
    /** A browser subscribing: new P-256 keys and auth secret, an endpoint on this service. */
    subscribe(name = randomBytes(8).toString('hex')): TestSubscription {
      const ecdh = createECDH('prime256v1')
      const pub = ecdh.generateKeys()
      const auth = randomBytes(16)
      browsers.set(`/push/${name}`, { priv: ecdh.getPrivateKey(), pub, auth })
      return {
        endpoint: `${origin}/push/${name}`,
        keys: { p256dh: pub.toString('base64url'), auth: auth.toString('base64url') },
      }
    },
    async close() {
      server.closeAllConnections()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
}

export type PushService = Awaited<ReturnType<typeof startPushService>>
