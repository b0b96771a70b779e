import { PUSH_QUEUE, type PushJob } from '@herald/contracts'
import type { Keys } from '@herald/keys'
import type { RedisClient } from '@herald/redis'
import { Queue } from 'bullmq'
import type { WorkerConfig } from '../config'

export type PushQueue = Queue<PushJob, void, string>

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
          backoff: { type: 'exponential', delay: this.opts.backoffMs },
          removeOnComplete: { age: this.opts.keepCompletedSeconds },
          removeOnFail: { age: this.opts.keepFailedSeconds },
        },
      })),
    )
    return wanted.length
  }
}
