import type { EventJob, EventStatus } from '@herald/contracts'
import type { Keys } from '@herald/keys'
import { defineScripts, type RedisClient } from '@herald/redis'
import { eventCancel } from '../commands/event-cancel-1'
import { eventClaim } from '../commands/event-claim-1'
import { eventSet } from '../commands/event-set-1'
import { eventStart } from '../commands/event-start-1'

/**
 * The idempotency record of an event: `keys.eventOf(source, id)`, a hash that outlives the
 * BullMQ job (≥ EVENT_IDEMPOTENCY_SECONDS) and that the worker keeps up to date. Keyed by the
 * calling system too: another system's event with the same id is another record.
 * Every method takes the event's (source, id) — `Pick<EventJob, 'source' | 'id'>`.
 *
 *   type, source, acceptedAt (ms), deliverAt (ms, optional), payload (the EventJob, JSON),
 *   status, attempts, messageIds (JSON), error, canceledAt (ms)
 */
/** Which event: the calling system and its id. */
export type EventRef = Pick<EventJob, 'source' | 'id'>

export interface EventRecord {
  id: string
  type: string
  source: string
  acceptedAt: number
  deliverAt?: number
  payload: EventJob | null
  status: EventStatus
  attempts: number
  messageIds: string[]
  error?: string
}

type RecordRedis = RedisClient & {
  heraldEventClaim(key: string, ttl: number, ...fields: string[]): Promise<string[] | null>
  heraldEventStart(key: string, ttl: number, type: string, source: string, acceptedAt: string): Promise<string[]>
  heraldEventSet(key: string, ttl: number, deleteCount: number, ...fieldsThenPairs: string[]): Promise<number>
  heraldEventCancel(key: string, now: number): Promise<EventStatus | null>
}

const define = (redis: RedisClient) =>
  defineScripts(redis, [eventClaim, eventStart, eventSet, eventCancel]) as unknown as RecordRedis

const STATUSES: readonly EventStatus[] = ['queued', 'delayed', 'processing', 'done', 'failed', 'canceled', 'expired']
/** Statuses no later step changes. */
export const FINAL_STATUSES: ReadonlySet<EventStatus> = new Set(['done', 'failed', 'canceled', 'expired'])

function parseJson<T>(s: string | undefined, fallback: T): T {
  if (!s) return fallback
  try {
    return JSON.parse(s) as T
  } catch {
    return fallback
  }
}

export function toRecord(id: string, h: Record<string, string>): EventRecord | null {
  if (!h.type) return null
  const status = STATUSES.includes(h.status as EventStatus) ? (h.status as EventStatus) : 'queued'
  return {
    id,
    type: h.type,
    source: h.source ?? '',
    acceptedAt: Number(h.acceptedAt) || 0,
    ...(h.deliverAt ? { deliverAt: Number(h.deliverAt) } : {}),
    payload: parseJson<EventJob | null>(h.payload, null),
    status,
    attempts: Number(h.attempts) || 0,
    messageIds: parseJson<string[]>(h.messageIds, []),
    ...(h.error ? { error: h.error } : {}),
  }
}

function flatToHash(flat: string[]): Record<string, string> {
  const h: Record<string, string> = {}
  for (let i = 0; i + 1 < flat.length; i += 2) h[flat[i] as string] = flat[i + 1] as string
  return h
}

/** The fields that say what an event is and who sent it, as field, value pairs. */
const identityOf = (job: EventJob) => ['type', job.type, 'source', job.source, 'acceptedAt', String(job.acceptedAt)]

export class EventRecords {
  private readonly redis: RecordRedis

  constructor(
    redis: RedisClient,
    private readonly keys: Keys,
    /** how long a record is kept after it was accepted or finished */
    private readonly ttlSeconds: number,
  ) {
    this.redis = define(redis)
  }

  private key(event: EventRef): string {
    return this.keys.eventOf(event.source, event.id)
  }

  /** TTL that keeps a record `ttlSeconds` past the moment a delayed event is due. */
  ttlFor(delayMs: number): number {
    return this.ttlSeconds + Math.ceil(delayMs / 1000)
  }

  /** Creates the record unless one exists: null means this caller won; otherwise the existing record. */
  async claim(job: EventJob, status: EventStatus, deliverAt: number | undefined): Promise<EventRecord | null> {
    const fields = [...identityOf(job), 'status', status, 'attempts', '0', 'payload', JSON.stringify(job)]
    if (deliverAt !== undefined) fields.push('deliverAt', String(deliverAt))
    const ttl = this.ttlFor(Math.max(0, (deliverAt ?? 0) - job.acceptedAt))
    const flat = await this.redis.heraldEventClaim(this.key(job), ttl, ...fields)
    return flat ? toRecord(job.id, flatToHash(flat)) : null
  }

  /** Undoes a claim whose job could not be added (the next POST may try again). */
  async release(event: EventRef): Promise<void> {
    await this.redis.del(this.key(event))
  }

  /** The record of `id` sent by `source`; another system's event with that id is not found. */
  async get(event: EventRef): Promise<EventRecord | null> {
    return toRecord(event.id, await this.redis.hgetall(this.key(event)))
  }

  /** Counts an attempt as started; returns the record without its payload (status 'done' means: already delivered). */
  async start(job: EventJob, delayMs = 0): Promise<EventRecord> {
    const flat = await this.redis.heraldEventStart(
      this.key(job),
      this.ttlFor(delayMs),
      job.type,
      job.source,
      String(job.acceptedAt),
    )
    return toRecord(job.id, flatToHash(flat)) as EventRecord
  }

  async done(event: EventRef, messageIds: string[]): Promise<void> {
    await this.redis.heraldEventSet(
      this.key(event),
      this.ttlSeconds,
      1,
      'error',
      'status',
      'done',
      'messageIds',
      JSON.stringify(messageIds),
    )
  }

  /**
   * The record of a fresh request (an id nobody else can know yet) that the API starts itself:
   * created already started, as a claim and then a start would leave it (attempt 1; the job's
   * own start counts the next). No claim: nothing can race it.
   */
  async recordStarted(job: EventJob): Promise<void> {
    await this.create(job, 'processing', 'payload', JSON.stringify(job))
  }

  /** The record of a request delivered inline by the API (no job): already done. */
  async recordDelivered(job: EventJob, messageIds: string[]): Promise<void> {
    await this.create(job, 'done', 'messageIds', JSON.stringify(messageIds))
  }

  /** A record the API writes whole for a fresh request, at its first attempt. */
  private async create(job: EventJob, status: EventStatus, ...fields: string[]): Promise<void> {
    await this.redis.heraldEventSet(
      this.key(job),
      this.ttlSeconds,
      0,
      ...identityOf(job),
      'status',
      status,
      'attempts',
      '1',
      ...fields,
    )
  }

  /**
   * Cancels the event unless it started: returns the status after the call ('canceled' when it
   * is, now or before), or null for no record.
   */
  async cancel(event: EventRef, now = Date.now()): Promise<EventStatus | null> {
    return (await this.redis.heraldEventCancel(this.key(event), now)) ?? null
  }

  /** The event's expiry passed before it was processed: nothing was written. */
  async expired(event: EventRef): Promise<void> {
    await this.redis.heraldEventSet(this.key(event), this.ttlSeconds, 1, 'error', 'status', 'expired')
  }

  /** A failed attempt: `final` when no retry follows. */
  async failed(event: EventRef, error: string, final: boolean): Promise<void> {
    await this.redis.heraldEventSet(
      this.key(event),
      this.ttlSeconds,
      0,
      'status',
      final ? 'failed' : 'queued',
      'error',
      error.slice(0, 1000),
    )
  }
}
