import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): the secret is `whsec_` and
 * the base64 of 32 random bytes; the signature is `v1,` and the base64 HMAC-SHA256, keyed
 * with those bytes, of `<webhook-id>.<webhook-timestamp>.<body>`.
 */
const PREFIX = 'whsec_'

/** A new endpoint secret. */
export function newSecret(): string {
  return `${PREFIX}${randomBytes(32).toString('base64')}`
}

function keyOf(secret: string): Buffer {
  if (!secret.startsWith(PREFIX)) throw new Error('a webhook secret starts with whsec_')
  return Buffer.from(secret.slice(PREFIX.length), 'base64')
}

/** The `webhook-signature` header value for one delivery (timestamp in epoch seconds). */
export function sign(secret: string, messageId: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', keyOf(secret)).update(`${messageId}.${timestamp}.${body}`).digest('base64')
  return `v1,${mac}`
}

/** The three headers of a signed delivery. */
export function signedHeaders(secret: string, messageId: string, timestamp: number, body: string) {
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': sign(secret, messageId, timestamp, body),
  }
}

/**
 * Checks a delivery the way a receiver should: one of the space-separated `v1,` signatures
 * matches (constant-time) and the timestamp is within `toleranceSeconds` of now.
 */
export function verify(
  secret: string,
  headers: { 'webhook-id': string; 'webhook-timestamp': string; 'webhook-signature': string },
  body: string,
  opts: { toleranceSeconds?: number; now?: number } = {},
): boolean {
  const ts = Number(headers['webhook-timestamp'])
  const now = Math.floor((opts.now ?? Date.now()) / 1000)
  if (!Number.isInteger(ts) || Math.abs(now - ts) > (opts.toleranceSeconds ?? 300)) return false
  const expected = Buffer.from(sign(secret, headers['webhook-id'], ts, body))
  return headers['webhook-signature']
    .split(' ')
    .some((s) => s.length === expected.length && timingSafeEqual(Buffer.from(s), expected))
}
