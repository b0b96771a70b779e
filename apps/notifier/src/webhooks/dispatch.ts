import { createHash } from 'node:crypto'
import {
  WEBHOOKS_QUEUE,
  type WebhookData,
  type WebhookEventType,
  type WebhookJob,
  type WebhookPayload,
} from '@herald/contracts'
import type { Keys } from '@herald/keys'
import type { RedisClient } from '@herald/redis'
import { Queue } from 'bullmq'
import type { WorkerConfig } from '../config'
import type { CachedSubscribers } from './subscribers'

export type WebhooksQueue = Queue<WebhookJob, void, string>

export function createWebhooksQueue(connection: RedisClient, keys: Keys): WebhooksQueue {
  return new Queue<WebhookJob, void, string>(WEBHOOKS_QUEUE, {
    connection,
    prefix: keys.bullPrefix(),
    skipVersionCheck: true,
  })
}

/** `webhook-id` of an event: derived from what happened, so an event noticed twice is one delivery. */
export function webhookMessageId(caller: string, type: WebhookEventType, eventKey: string): string {
  return `msg_${createHash('sha256').update(`${caller}\0${type}\0${eventKey}`).digest('base64url').slice(0, 27)}`
}

export interface DispatchOptions {
  attempts: number
  backoffMs: number
  keepCompletedSeconds: number
  keepFailedSeconds: number
}

export function dispatchOptionsOf(config: WorkerConfig): DispatchOptions {
  return {
    attempts: config.WEBHOOK_ATTEMPTS,
    backoffMs: config.WEBHOOK_BACKOFF_MS,
    keepCompletedSeconds: config.JOB_KEEP_COMPLETED_SECONDS,
    keepFailedSeconds: config.JOB_KEEP_FAILED_SECONDS,
  }
}

/**
 * Turns something that happened into one delivery job per subscribed endpoint of the
 * calling system it concerns. Endpoints are looked up through the process's CachedSubscribers
 * (a caller with no webhooks costs no Redis call per event while it is fresh); the job id is
 * the endpoint and the webhook id, so the same event emitted twice is queued once.
 */
export class WebhookDispatcher {
  constructor(
    private readonly subscribers: Pick<CachedSubscribers, 'of'>,
    private readonly queue: WebhooksQueue,
    private readonly opts: DispatchOptions,
  ) {}

  /**
   * Queues `type` with `data` for the caller's endpoints (every system's with `caller` null);
   * `eventKey` names the occurrence. `delayMs` holds the jobs back; `settle` makes them check
   * the user is still offline before sending. Returns the jobs queued.
   */
  async emit<T extends WebhookEventType>(
    caller: string | null,
    type: T,
    data: WebhookData<T>,
    eventKey: string,
    opts: { now?: number; delayMs?: number; settle?: WebhookJob['settle'] } = {},
  ): Promise<number> {
    if (caller === '') return 0
    const ids = await this.subscribers.of(caller, type)
    if (ids.length === 0) return 0
    const now = opts.now ?? Date.now()
    const messageId = webhookMessageId(caller ?? '*', type, eventKey)
    const payload: WebhookPayload<T> = { type, timestamp: new Date(now).toISOString(), data }
    const body = JSON.stringify(payload)
    await this.queue.addBulk(
      ids.map((endpointId) => ({
        name: type,
        data: { endpointId, messageId, type, body, ...(opts.settle ? { settle: opts.settle } : {}) },
        opts: {
          jobId: `${endpointId}.${messageId}`,
          ...(opts.delayMs ? { delay: opts.delayMs } : {}),
          attempts: this.opts.attempts,
          backoff: { type: 'exponential', delay: this.opts.backoffMs },
          removeOnComplete: { age: this.opts.keepCompletedSeconds },
          removeOnFail: { age: this.opts.keepFailedSeconds },
        },
      })),
    )
    return ids.length
  }
}
