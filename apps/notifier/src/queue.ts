import { EVENTS_QUEUE, type EventJob } from '@herald/contracts'
import type { Keys } from '@herald/keys'
import type { RedisClient } from '@herald/redis'
import { type JobsOptions, Queue } from 'bullmq'
import type { NotifierConfig } from './config'
import { jobIdFor } from './domain/ids'

export type EventsQueue = Queue<EventJob, { messageIds: string[] }, string>

/**
 * The job that takes a message to everyone back from every inbox (`DELETE /v1/messages/:id`
 * once it was written): internal, like the catalog's herald.message; `data.messageId`. Its id
 * is derived from the message, so repeated DELETEs make one job.
 */
export const RETRACT_JOB_TYPE = 'herald.retract'

/**
 * The producer side of EVENTS_QUEUE. On the HTTP path `connection` is a `command`-role
 * client (no offline queue, 2 s command timeout), so a POST fails fast with 503 when
 * Redis is down instead of hanging.
 */
export function createEventsQueue(connection: RedisClient, keys: Keys): EventsQueue {
  return new Queue<EventJob, { messageIds: string[] }, string>(EVENTS_QUEUE, {
    connection,
    prefix: keys.bullPrefix(),
    skipVersionCheck: true,
  })
}

/**
 * Retries with exponential backoff. A job that completed is removed at once — its event's
 * record holds the status and the message ids, and dedupes a repeat, for longer than a kept job
 * would (and 1 h of kept jobs at 1000 events/s was 3.6 M hashes in Redis); a failed one is
 * kept JOB_KEEP_FAILED_SECONDS for inspection.
 */
export function jobOptions(config: NotifierConfig, job: EventJob, delayMs: number): JobsOptions {
  return {
    jobId: jobIdFor(job.source, job.id),
    attempts: config.JOB_ATTEMPTS,
    backoff: { type: 'exponential', delay: config.JOB_BACKOFF_MS },
    ...(delayMs > 0 ? { delay: delayMs } : {}),
    removeOnComplete: true,
    removeOnFail: { age: config.JOB_KEEP_FAILED_SECONDS },
  }
}
