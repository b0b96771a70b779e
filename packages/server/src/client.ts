import { randomUUID } from 'node:crypto'
import type {
  CreatedWebhook,
  CreateWebhookBody,
  EventAccepted,
  EventEnvelope,
  EventView,
  MessageCanceled,
  MessageReceipt,
  PresenceView,
  SendMessageBody,
  SendMessageReply,
  StatsView,
  WebhookDeliveries,
  WebhookList,
  WebhookView,
} from '@herald/contracts'
import { ClientErrorCode, HeraldError } from './errors'
import { DEFAULT_RETRY, delayFor, parseRetryAfter, type RetryOptions } from './retry'

export type {
  CreatedWebhook,
  CreateWebhookBody,
  EventAccepted,
  EventEnvelope,
  EventView,
  MessageCanceled,
  MessageReceipt,
  PresenceView,
  SendMessageBody,
  SendMessageReply,
  StatsView,
  WebhookDeliveries,
  WebhookList,
  WebhookView,
}

export interface HeraldServerOptions {
  /** where herald's nginx answers, e.g. `https://herald.example.com` */
  baseUrl: string
  /** a service token (`pnpm run token`), or a function returning one (called for every request) */
  token: string | (() => string | Promise<string>)
  /** per attempt @default 10_000 */
  timeoutMs?: number
  /** retries of a call herald did not take (429, 503) or that may be repeated safely */
  retry?: Partial<RetryOptions>
  /** @default globalThis.fetch */
  fetch?: typeof fetch
}

interface Call {
  method: 'GET' | 'POST' | 'DELETE'
  path: string
  body?: unknown
  headers?: Record<string, string>
  /** repeating it after a network error cannot do anything twice */
  idempotent: boolean
}

/** The `/v1` API of herald for the systems that call it. Every method maps one route. */
export class HeraldServer {
  private readonly baseUrl: string
  private readonly retry: RetryOptions
  private readonly timeoutMs: number
  private readonly fetchFn: typeof fetch

  constructor(private readonly opts: HeraldServerOptions) {
    if (!opts.baseUrl) throw new TypeError('baseUrl is required')
    if (!opts.token) throw new TypeError('token is required')
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '')
    this.retry = { ...DEFAULT_RETRY, ...opts.retry }
    this.timeoutMs = opts.timeoutMs ?? 10_000
    this.fetchFn = opts.fetch ?? globalThis.fetch
  }

  /**
   * `POST /v1/events`: a business event; the catalog turns it into messages. Its `id` is the
   * idempotency key: sending it again (a retry, another process) answers its current status.
   */
  sendEvent(event: EventEnvelope): Promise<EventAccepted> {
    return this.call({ method: 'POST', path: '/v1/events', body: event, idempotent: true })
  }

  /** `GET /v1/events/:id`: status, attempts, message ids. */
  getEvent(id: string): Promise<EventView> {
    return this.call({ method: 'GET', path: `/v1/events/${encodeURIComponent(id)}`, idempotent: true })
  }

  /**
   * `POST /v1/messages`: a message to users or everyone, now or at `deliverAt`. With an
   * `idempotencyKey` a repeat answers the same ids and a network failure is retried; without
   * one, only answers that say herald did not take it (429, 503) are.
   */
  sendMessage(message: SendMessageBody, opts: { idempotencyKey?: string } = {}): Promise<SendMessageReply> {
    return this.call({
      method: 'POST',
      path: '/v1/messages',
      body: message,
      ...(opts.idempotencyKey ? { headers: { 'idempotency-key': opts.idempotencyKey } } : {}),
      idempotent: opts.idempotencyKey !== undefined,
    })
  }

  /** `GET /v1/messages/:id`: the message's status, delivery and read receipt. */
  getMessage(id: string): Promise<MessageReceipt> {
    return this.call({ method: 'GET', path: `/v1/messages/${encodeURIComponent(id)}`, idempotent: true })
  }

  /**
   * `DELETE /v1/messages/:id`: takes a message back — `canceled` if it was scheduled and not
   * written, `retracted` (removed from the inbox and from open clients) if it was.
   */
  cancelMessage(id: string): Promise<MessageCanceled> {
    return this.call({ method: 'DELETE', path: `/v1/messages/${encodeURIComponent(id)}`, idempotent: true })
  }

  /**
   * `DELETE /v1/events/:id`: cancels an event (or a `sendMessage` request, by its `requestId`)
   * that has not started; a `NOT_CANCELABLE` HeraldError once it has.
   */
  cancelEvent(id: string): Promise<EventAccepted> {
    return this.call({ method: 'DELETE', path: `/v1/events/${encodeURIComponent(id)}`, idempotent: true })
  }

  /** `GET /v1/users/:id/presence`: the user's live connections across gateways. */
  presence(userId: string): Promise<PresenceView> {
    return this.call({ method: 'GET', path: `/v1/users/${encodeURIComponent(userId)}/presence`, idempotent: true })
  }

  /** `POST /v1/users/:id/disconnect`: every socket of the user closes 4409 (sessions stay). */
  async disconnect(userId: string): Promise<void> {
    await this.call({ method: 'POST', path: `/v1/users/${encodeURIComponent(userId)}/disconnect`, idempotent: true })
  }

  /** `GET /v1/stats`: sockets, users online, replicas, queue depth. */
  stats(): Promise<StatsView> {
    return this.call({ method: 'GET', path: '/v1/stats', idempotent: true })
  }

  /**
   * `POST /v1/webhooks` (scope `webhooks:write`): an endpoint for some event types. The answer
   * holds the signing secret, shown this once: keep it. Not retried after a network error
   * (a repeat would make a second endpoint).
   */
  createWebhook(body: CreateWebhookBody): Promise<CreatedWebhook> {
    return this.call({ method: 'POST', path: '/v1/webhooks', body, idempotent: false })
  }

  /** `GET /v1/webhooks`: this system's endpoints. */
  listWebhooks(): Promise<WebhookList> {
    return this.call({ method: 'GET', path: '/v1/webhooks', idempotent: true })
  }

  /** `GET /v1/webhooks/:id`: one endpoint (enabled, failure streak…). */
  getWebhook(id: string): Promise<WebhookView> {
    return this.call({ method: 'GET', path: `/v1/webhooks/${encodeURIComponent(id)}`, idempotent: true })
  }

  /** `DELETE /v1/webhooks/:id`: nothing more is sent to it. */
  async deleteWebhook(id: string): Promise<void> {
    await this.call({ method: 'DELETE', path: `/v1/webhooks/${encodeURIComponent(id)}`, idempotent: true })
  }

  /** `POST /v1/webhooks/:id/enable`: an endpoint disabled after its failure streak, on again. */
  enableWebhook(id: string): Promise<WebhookView> {
    return this.call({ method: 'POST', path: `/v1/webhooks/${encodeURIComponent(id)}/enable`, idempotent: true })
  }

  /** `GET /v1/webhooks/:id/deliveries`: its delivery attempts, newest first (at most `limit`). */
  webhookDeliveries(id: string, opts: { limit?: number } = {}): Promise<WebhookDeliveries> {
    const q = opts.limit === undefined ? '' : `?limit=${encodeURIComponent(String(opts.limit))}`
    return this.call({
      method: 'GET',
      path: `/v1/webhooks/${encodeURIComponent(id)}/deliveries${q}`,
      idempotent: true,
    })
  }

  /** A fresh idempotency key for `sendMessage` (keep it with the request you may repeat). */
  static idempotencyKey(): string {
    return randomUUID()
  }

  private async call<T>(call: Call): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      let failure: HeraldError
      try {
        return (await this.once(call)) as T
      } catch (err) {
        if (!(err instanceof HeraldError)) throw err
        failure = err
      }
      const refused = failure.status === 429 || failure.status === 503
      const unanswered = failure.code === ClientErrorCode.NETWORK_ERROR || failure.code === ClientErrorCode.TIMEOUT
      if (attempt >= this.retry.retries || !(refused || (unanswered && call.idempotent))) throw failure
      await new Promise((r) => setTimeout(r, delayFor(attempt, failure.retryAfterSeconds, this.retry)))
    }
  }

  private async once(call: Call): Promise<unknown> {
    const token = typeof this.opts.token === 'function' ? await this.opts.token() : this.opts.token
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, ...call.headers }
    if (call.body !== undefined) headers['content-type'] = 'application/json'
    let res: Response
    try {
      res = await this.fetchFn(`${this.baseUrl}${call.path}`, {
        method: call.method,
        headers,
        ...(call.body !== undefined ? { body: JSON.stringify(call.body) } : {}),
        signal: AbortSignal.timeout(this.timeoutMs),
      })
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')
      throw new HeraldError(
        timedOut ? ClientErrorCode.TIMEOUT : ClientErrorCode.NETWORK_ERROR,
        timedOut
          ? `${call.method} ${call.path}: no answer within ${this.timeoutMs} ms`
          : `${call.method} ${call.path}: ${(err as Error).message}`,
        0,
        undefined,
        { cause: err },
      )
    }
    const text = await res.text().catch(() => '')
    if (res.status === 204) return undefined
    let body: unknown
    try {
      body = text ? JSON.parse(text) : undefined
    } catch {
      body = undefined
    }
    if (res.ok) {
      if (body === undefined) {
        throw new HeraldError(ClientErrorCode.INVALID_RESPONSE, `${call.method} ${call.path}: not JSON`, res.status)
      }
      return body
    }
    const e = (body ?? {}) as { code?: unknown; message?: unknown }
    throw new HeraldError(
      typeof e.code === 'string' ? e.code : `HTTP_${res.status}`,
      typeof e.message === 'string' ? e.message : `${call.method} ${call.path} answered ${res.status}`,
      res.status,
      parseRetryAfter(res.headers.get('retry-after')),
    )
  }
}
