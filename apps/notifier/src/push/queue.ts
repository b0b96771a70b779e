import { PUSH_QUEUE, type PushJob } from '@herald/contracts'
import type { Keys } from '@herald/keys'
import type { RedisClient } from '@herald/redis'
import { Queue } from 'bullmq'
import type { WorkerConfig } from '../config'

export type PushQueue = Queue<PushJob, void, string>

/** The push jobs' backoff: exponential, but never sooner than a push service's Retry-After. */
export const PUSH_BACKOFF = 'push'
/** The longest a push waits for a retry, whatever a push service asks. */
const MAX_RETRY_DELAY_MS = 3_600_000

/** An attempt to try again, not before `retryAfterMs` when the push service said so. */
export class RetryLater extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message)
  }
}

/** The delay before attempt `attemptsMade + 1` (the worker's `backoffStrategy`). */
export function pushBackoff(backoffMs: number) {
  return (attemptsMade: number, _type?: string, err?: Error): number => {
    const exponential = backoffMs * 2 ** Math.max(0, attemptsMade - 1)
    const asked = err instanceof RetryLater ? err.retryAfterMs : 0
    return Math.min(MAX_RETRY_DELAY_MS, Math.max(exponential, asked))
  }
}

export function createPushQueue(connection: RedisClient, keys: Keys): PushQueue {
  return new Queue<PushJob, void, string>(PUSH_QUEUE, { connection, prefix: keys.bullPrefix(), skipVersionCheck: true })
}

export interface PushQueueOptions {
  attempts: number
  backoffMs: number
  /** 0: users with a live connection are not pushed; else the delay of their "still undelivered?" job */
  undeliveredAfterMs: number
  keepCompletedSeconds: number
  keepFailedSeconds: number
}

export function pushQueueOptionsOf(config: WorkerConfig): PushQueueOptions {
  return {
    attempts: config.PUSH_ATTEMPTS,
    backoffMs: config.PUSH_BACKOFF_MS,
    undeliveredAfterMs: config.PUSH_UNDELIVERED_AFTER_MS,
    keepCompletedSeconds: config.JOB_KEEP_COMPLETED_SECONDS,
    keepFailedSeconds: config.JOB_KEEP_FAILED_SECONDS,
  }
}

/**
 * Queues pushes: one job per (message, user), its id derived from both, so a delivery run
 * twice queues one push. `offline` users are pushed at once; with `unlessDelivered` the job
 * is held back PUSH_UNDELIVERED_AFTER_MS and sends only if no device acked the message.
 */
export class PushEnqueuer {
  constructor(
    private readonly queue: PushQueue,
    private readonly opts: PushQueueOptions,
  ) {}

  async enqueue(jobs: Omit<PushJob, 'done'>[]): Promise<number> {
    const wanted = jobs.filter((j) => !j.unlessDelivered || this.opts.undeliveredAfterMs > 0)
    if (wanted.length === 0) return 0
    await this.queue.addBulk(
      wanted.map((data) => ({
        name: data.unlessDelivered ? 'undelivered' : 'offline',
        data,
        opts: {
          jobId: `${data.messageId}.${Buffer.from(data.userId).toString('base64url')}`,
          ...(data.unlessDelivered ? { delay: this.opts.undeliveredAfterMs } : {}),
          attempts: this.opts.attempts,
          backoff: { type: PUSH_BACKOFF, delay: this.opts.backoffMs },
          removeOnComplete: { age: this.opts.keepCompletedSeconds },
          removeOnFail: { age: this.opts.keepFailedSeconds },
        },
      })),
    )
    return wanted.length
  }
}
