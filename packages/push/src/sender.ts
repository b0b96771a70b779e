import { Agent, type AgentOptions } from 'node:https'
import { guardedLookup, type TargetPolicy, urlProblem } from '@herald/webhooks'
import webpush, { type Urgency } from 'web-push'
import type { PushSubscriptionInput } from './subscriptions'

/** The application server's VAPID identity (RFC 8292): the public key is the browsers' applicationServerKey. */
export interface VapidConfig {
  /** a `mailto:` or `https:` URL the push services may contact */
  subject: string
  /** base64url P-256 public key (65 bytes) */
  publicKey: string
  /** base64url P-256 private key (32 bytes): never logged */
  privateKey: string
}

export interface PushSenderOptions {
  vapid: VapidConfig
  /** where a push may be sent (the endpoint's address, checked at connect time too) */
  policy: TargetPolicy
  /** the socket's idle timeout and the whole attempt's deadline */
  timeoutMs: number
  /** extra TLS options of the agent (a test's own certificate authority) */
  tls?: Pick<AgentOptions, 'ca'>
}

export interface PushOptions {
  /** seconds the push service keeps the message for an offline browser */
  ttl: number
  urgency: Urgency
}

/**
 * One attempt's outcome: `sent` (2xx); `gone` (404/410: the subscription expired or was
 * unsubscribed — remove it); `retry` (429, 5xx, a network error or timeout — try again later,
 * after `retryAfterMs` when the service said); `rejected` (any other answer: retrying the
 * same request will not help).
 */
export type PushResult =
  | { outcome: 'sent'; status: number }
  | { outcome: 'gone'; status: number }
  | { outcome: 'retry'; status?: number; retryAfterMs?: number; error: string }
  | { outcome: 'rejected'; status?: number; error: string }

/** The largest payload a push service must accept (RFC 8291: 4096 bytes of record, less the overhead). */
export const MAX_PAYLOAD_BYTES = 3800

function retryAfterMs(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value
  if (!v) return undefined
  const s = Number(v)
  if (Number.isFinite(s)) return Math.max(0, s * 1000)
  const at = Date.parse(v)
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now())
}

/**
 * Sends Web Push messages with the `web-push` library: the payload encrypted for the
 * subscription (RFC 8291, aes128gcm), the request signed with VAPID (RFC 8292), TTL and
 * Urgency headers (RFC 8030). One https agent for every endpoint: its connections resolve
 * hosts through the SSRF-guarded lookup (endpoints come from browsers, so from users).
 */
export class PushSender {
  private readonly agent: Agent

  constructor(private readonly opts: PushSenderOptions) {
    this.agent = new Agent({
      keepAlive: true,
      maxSockets: 32,
      lookup: guardedLookup(opts.policy) as unknown as AgentOptions['lookup'],
      ...opts.tls,
    })
  }

  /** One attempt to push `payload` (a JSON text, at most MAX_PAYLOAD_BYTES) to one subscription. */
  async send(sub: PushSubscriptionInput, payload: string, options: PushOptions): Promise<PushResult> {
    const problem = urlProblem({ ...this.opts.policy, allowHttp: false }, sub.endpoint)
    if (problem) return { outcome: 'rejected', error: `endpoint ${problem}` }
    if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES) return { outcome: 'rejected', error: 'payload too large' }
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timed out')), this.opts.timeoutMs)
    })
    try {
      const res = await Promise.race([
        webpush.sendNotification(sub, payload, {
          vapidDetails: this.opts.vapid,
          TTL: options.ttl,
          urgency: options.urgency,
          contentEncoding: 'aes128gcm',
          agent: this.agent,
          timeout: this.opts.timeoutMs,
        }),
        deadline,
      ])
      return { outcome: 'sent', status: res.statusCode }
    } catch (err) {
      if (err instanceof webpush.WebPushError) {
        const status = err.statusCode
        if (status === 404 || status === 410) return { outcome: 'gone', status }
        if (status === 429 || status >= 500) {
          const after = retryAfterMs(err.headers?.['retry-after'])
          return {
            outcome: 'retry',
            status,
            error: `HTTP ${status}`,
            ...(after === undefined ? {} : { retryAfterMs: after }),
          }
        }
        return { outcome: 'rejected', status, error: `HTTP ${status}` }
      }
      const e = err as NodeJS.ErrnoException
      if (e.code === 'EREFUSEDTARGET') return { outcome: 'rejected', error: 'endpoint targets a refused address' }
      return { outcome: 'retry', error: String(e.code ?? e.message).slice(0, 200) }
    } finally {
      clearTimeout(timer)
    }
  }

  close(): void {
    this.agent.destroy()
  }
}

/** A new VAPID key pair (base64url), as `web-push generate-vapid-keys` prints. */
export function generateVapidKeys(): { publicKey: string; privateKey: string } {
  return webpush.generateVAPIDKeys()
}
