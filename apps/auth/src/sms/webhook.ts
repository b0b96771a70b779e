import { setTimeout as sleep } from 'node:timers/promises'
import { SmsSendError } from '../errors'
import type { SmsMessage, SmsProvider } from './provider'

export interface WebhookOptions {
  url: string
  /** per attempt */
  timeoutMs: number
  /** @default 200 */
  retryDelayMs?: number
}

/**
 * POSTs `{to, text}` as JSON to an HTTP endpoint (an SMS gateway or a bridge to one).
 * One retry after a short pause; a 4xx answer is not retried (the request itself is wrong).
 */
export class WebhookSmsProvider implements SmsProvider {
  readonly name = 'webhook'

  constructor(private readonly opts: WebhookOptions) {}

  async send(message: SmsMessage): Promise<void> {
    let failure = await this.attempt(message)
    if (failure?.retry) {
      await sleep(this.opts.retryDelayMs ?? 200)
      failure = await this.attempt(message)
    }
    if (failure) throw failure.error
  }

  /** undefined when the provider accepted the message */
  private async attempt(message: SmsMessage): Promise<{ error: SmsSendError; retry: boolean } | undefined> {
    try {
      const res = await fetch(this.opts.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ to: message.to, text: message.text }),
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      })
      // drain the body so the connection can be reused
      await res.arrayBuffer().catch(() => undefined)
      if (res.ok) return undefined
      return {
        error: new SmsSendError(`SMS provider answered ${res.status}`, 502),
        retry: res.status >= 500 || res.status === 429,
      }
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')
      return {
        error: new SmsSendError(timedOut ? 'SMS provider timed out' : 'SMS provider unreachable', 503),
        retry: true,
      }
    }
  }
}
