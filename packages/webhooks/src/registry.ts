import { randomBytes } from 'node:crypto'
import type { CreateWebhookBody, WebhookDelivery, WebhookEventType, WebhookView } from '@herald/contracts'
import type { Keys } from '@herald/keys'
import { defineScripts, type RedisClient } from '@herald/redis'
import { webhookCreate } from './commands/webhook-create-3'
import { webhookDelete } from './commands/webhook-delete-4'
import { webhookEnable } from './commands/webhook-enable-1'
import { webhookRecord } from './commands/webhook-record-2'
import { newSecret } from './signer'

const SCRIPTS = [webhookCreate, webhookDelete, webhookEnable, webhookRecord] as const
const ID_RE = /^wh_[A-Za-z0-9_-]{1,37}$/

/** What a delivery needs of an endpoint (the secret included: never logged, never answered after creation). */
export interface DeliveryTarget {
  id: string
  caller: string
  url: string
  secret: string
  events: WebhookEventType[]
  enabled: boolean
}

export interface RecordOptions {
  /** delivery attempts kept per endpoint */
  logMax: number
  /** failed attempts in a row that disable the endpoint */
  disableAfter: number
}

export type RecordOutcome = 'gone' | 'ok' | 'failed' | 'disabled'
const OUTCOMES: Record<string, RecordOutcome> = { '-1': 'gone', '1': 'ok', '0': 'failed', '2': 'disabled' }

function viewOf(h: Record<string, string>): WebhookView {
  return {
    id: h.id as string,
    url: h.url as string,
    events: (h.events as string).split(','),
    description: h.description ?? '',
    createdAt: new Date(Number(h.createdAt)).toISOString(),
    status: h.status === 'enabled' ? 'enabled' : 'disabled',
    failureStreak: Number(h.failures ?? 0),
    ...(h.disabledAt ? { disabledAt: new Date(Number(h.disabledAt)).toISOString() } : {}),
  }
}

/**
 * The webhook endpoints of the calling systems and their delivery logs: the only code that
 * reads or writes those keys. An endpoint belongs to one caller (the service token's `sub`);
 * every read by a caller checks it, so another caller's id answers as missing.
 */
export class WebhookRegistry {
  private readonly redis: ReturnType<typeof defineScripts<(typeof SCRIPTS)[number]['name']>>

  constructor(
    redis: RedisClient,
    private readonly keys: Keys,
  ) {
    this.redis = defineScripts(redis, SCRIPTS)
  }

  /** Registers an endpoint; null when the caller already has `maxEndpoints`. The secret is in this answer only. */
  async create(
    caller: string,
    body: CreateWebhookBody,
    maxEndpoints: number,
    now = Date.now(),
  ): Promise<(WebhookView & { secret: string }) | null> {
    const id = `wh_${randomBytes(12).toString('base64url')}`
    const secret = newSecret()
    const h: Record<string, string> = {
      id,
      caller,
      url: body.url,
      events: body.events.join(','),
      description: body.description ?? '',
      secret,
      createdAt: String(now),
      status: 'enabled',
      failures: '0',
    }
    const k = this.keys
    const done = await this.redis.heraldWebhookCreate(
      k.webhookCallerEndpoints(caller),
      k.webhookEndpoint(id),
      k.webhookEndpoints(),
      maxEndpoints,
      id,
      ...Object.entries(h).flat(),
    )
    return Number(done) === 1 ? { ...viewOf(h), secret } : null
  }

  private async hashOf(id: string): Promise<Record<string, string> | null> {
    if (!ID_RE.test(id)) return null
    const h = await this.redis.hgetall(this.keys.webhookEndpoint(id))
    return h.id ? h : null
  }

  /** The caller's endpoints, oldest first. */
  async list(caller: string): Promise<WebhookView[]> {
    const ids = await this.redis.smembers(this.keys.webhookCallerEndpoints(caller))
    const rows = await Promise.all(ids.map((id) => this.hashOf(id)))
    return rows
      .filter((h): h is Record<string, string> => h !== null && h.caller === caller)
      .map(viewOf)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id))
  }

  /** One endpoint of the caller; null when it does not exist or is another caller's. */
  async get(caller: string, id: string): Promise<WebhookView | null> {
    const h = await this.hashOf(id)
    return h && h.caller === caller ? viewOf(h) : null
  }

  /** Removes one of the caller's endpoints and its log; false when it has none by that id. */
  async delete(caller: string, id: string): Promise<boolean> {
    if (!ID_RE.test(id)) return false
    const k = this.keys
    const n = await this.redis.heraldWebhookDelete(
      k.webhookCallerEndpoints(caller),
      k.webhookEndpoint(id),
      k.webhookDeliveries(id),
      k.webhookEndpoints(),
      id,
    )
    return Number(n) === 1
  }

  /** Enables one of the caller's endpoints again, its failure streak reset; null when it has none by that id. */
  async enable(caller: string, id: string): Promise<WebhookView | null> {
    if (!ID_RE.test(id)) return null
    if (Number(await this.redis.heraldWebhookEnable(this.keys.webhookEndpoint(id), caller)) !== 1) return null
    return this.get(caller, id)
  }

  /** The endpoint as a delivery needs it; null once deleted. */
  async target(id: string): Promise<DeliveryTarget | null> {
    const h = await this.hashOf(id)
    if (!h) return null
    return {
      id,
      caller: h.caller as string,
      url: h.url as string,
      secret: h.secret as string,
      events: (h.events as string).split(',') as WebhookEventType[],
      enabled: h.status === 'enabled',
    }
  }

  /**
   * The enabled endpoints subscribed to `type`: the caller's, or with `caller` null every
   * system's (presence concerns every system: they all own the users).
   */
  async subscribers(caller: string | null, type: WebhookEventType): Promise<string[]> {
    const k = this.keys
    const ids = await this.redis.smembers(caller === null ? k.webhookEndpoints() : k.webhookCallerEndpoints(caller))
    const targets = await Promise.all(ids.map((id) => this.target(id)))
    return targets.filter((t) => t?.enabled && t.events.includes(type)).map((t) => (t as DeliveryTarget).id)
  }

  /** Logs an attempt and keeps the failure streak; 'disabled' when this failure disabled the endpoint. */
  async record(id: string, attempt: WebhookDelivery, opts: RecordOptions, now = Date.now()): Promise<RecordOutcome> {
    const k = this.keys
    const out = await this.redis.heraldWebhookRecord(
      k.webhookEndpoint(id),
      k.webhookDeliveries(id),
      JSON.stringify(attempt),
      attempt.ok ? '1' : '0',
      opts.logMax,
      opts.disableAfter,
      now,
    )
    return OUTCOMES[String(out)] ?? 'failed'
  }

  /** The caller's endpoint's latest attempts, newest first; null when it is not the caller's. */
  async deliveries(caller: string, id: string, limit: number): Promise<WebhookDelivery[] | null> {
    if (!(await this.get(caller, id))) return null
    const rows = await this.redis.lrange(this.keys.webhookDeliveries(id), 0, limit - 1)
    return rows.map((r) => JSON.parse(r) as WebhookDelivery)
  }
}
