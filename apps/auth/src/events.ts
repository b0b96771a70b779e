import { randomUUID } from 'node:crypto'
import { type AccountLoginData, type EventJob, JobBatcher, jobIdFor } from '@herald/contracts'
import type { JobsOptions } from 'bullmq'
import type { FastifyBaseLogger } from 'fastify'

/** The producer side of EVENTS_QUEUE that auth needs (a BullMQ Queue satisfies it). */
export interface EventQueue {
  add(name: string, data: EventJob, opts?: JobsOptions): Promise<unknown>
}

export const ACCOUNT_LOGIN = 'account.login'

/**
 * As the notifier enqueues its own events: retried with backoff; a completed job is removed at
 * once, as the notifier's are — the event's record (written by the worker) keeps its status and
 * message ids, and a kept job would cost a hash per sign-in for an hour; a failed one is kept a
 * week. The job id derives from the event id as the notifier's does.
 */
const JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: true,
  removeOnFail: { age: 7 * 24 * 3600 },
}

/**
 * auth's producer of `account.login`: sign-ins that happen while the previous add to the queue
 * is in flight go as one batch job (`JobBatcher`, at most `batchMax` to a job); a lone sign-in
 * is a job of its own, under its event's job id.
 */
export class LoginEvents {
  private readonly batcher: JobBatcher

  constructor(queue: EventQueue, opts: { batchMax: number; timeoutMs: number }) {
    this.batcher = new JobBatcher({
      max: opts.batchMax,
      timeoutMs: opts.timeoutMs,
      add: (job) => queue.add(job.type, job, { ...JOB_OPTIONS, jobId: jobIdFor(job.source, job.id) }),
    })
  }

  /** Resolves once the event is in the queue. */
  add(job: EventJob): Promise<void> {
    return this.batcher.add(job)
  }
}

export function loginEvent(data: AccountLoginData, now: number): EventJob {
  return {
    id: `auth-login-${randomUUID()}`,
    type: ACCOUNT_LOGIN,
    data: { ...data },
    occurredAt: new Date(now).toISOString(),
    acceptedAt: now,
    source: 'auth',
  }
}

/**
 * Enqueues `account.login`. A sign-in must not fail because the queue is down, so errors
 * (and a queue that does not answer within `timeoutMs`) are logged, never thrown.
 */
export async function enqueueLogin(
  events: LoginEvents,
  data: AccountLoginData,
  opts: { now: number; timeoutMs: number; log: FastifyBaseLogger },
): Promise<string | null> {
  const job = loginEvent(data, opts.now)
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      events.add(job),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${opts.timeoutMs} ms`)), opts.timeoutMs)
      }),
    ])
    return job.id
  } catch (err) {
    opts.log.warn(
      { eventId: job.id, userId: data.userId, err: { message: (err as Error).message } },
      'could not enqueue account.login',
    )
    return null
  } finally {
    clearTimeout(timer)
  }
}
