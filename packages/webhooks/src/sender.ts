import { Agent, request } from 'undici'
import { signedHeaders } from './signer'
import { guardedLookup, type LookupFn, type TargetPolicy, urlProblem } from './ssrf'

export interface SenderOptions {
  policy: TargetPolicy
  /** the whole attempt: connect, send, response headers */
  timeoutMs: number
  /** name resolution (node:dns by default); the policy is applied to its answers */
  lookup?: LookupFn
}

export interface SendResult {
  ok: boolean
  status?: number
  error?: string
  durationMs: number
}

/** Response bytes read at most (then the body is dropped): a receiver's answer is not used. */
const RESPONSE_READ_LIMIT = 4096

/**
 * Sends signed webhook deliveries. One undici agent for every endpoint: its connections
 * resolve hosts through the SSRF-guarded lookup; redirects are not followed (a 3xx is a
 * failure); every attempt has a deadline; the response body is not read past a few KiB.
 */
export class WebhookSender {
  private readonly agent: Agent

  constructor(private readonly opts: SenderOptions) {
    this.agent = new Agent({
      connect: { lookup: guardedLookup(opts.policy, opts.lookup), timeout: opts.timeoutMs },
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
      keepAliveTimeout: 4000,
    })
  }

  /** One attempt: POST `body`, signed with `secret` under `messageId`; ok on a 2xx. */
  async send(url: string, secret: string, messageId: string, body: string, now = Date.now()): Promise<SendResult> {
    const started = performance.now()
    const elapsed = () => Math.round(performance.now() - started)
    // IP literals never go through lookup: they are checked here
    const problem = urlProblem(this.opts.policy, url)
    if (problem) return { ok: false, error: `url ${problem}`, durationMs: 0 }
    try {
      const res = await request(url, {
        method: 'POST',
        dispatcher: this.agent,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'herald-webhooks/1',
          ...signedHeaders(secret, messageId, Math.floor(now / 1000), body),
        },
        body,
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      })
      await res.body.dump({ limit: RESPONSE_READ_LIMIT }).catch(() => {})
      const ok = res.statusCode >= 200 && res.statusCode < 300
      return { ok, status: res.statusCode, ...(ok ? {} : { error: `HTTP ${res.statusCode}` }), durationMs: elapsed() }
    } catch (err) {
      const e = err as NodeJS.ErrnoException
      const reason = e.name === 'TimeoutError' || e.name === 'AbortError' ? 'timed out' : (e.code ?? e.message)
      return { ok: false, error: String(reason).slice(0, 200), durationMs: elapsed() }
    }
  }

  async close(): Promise<void> {
    await this.agent.close()
  }
}
