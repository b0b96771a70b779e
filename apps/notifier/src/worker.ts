import { EVENTS_QUEUE, type EventJob, eventsOfBatch } from '@herald/contracts'
import { Inbox, Preferences } from '@herald/inbox'
import { PushSubscriptions } from '@herald/push'
import type { RedisClient } from '@herald/redis'
import { keysFor } from '@herald/service-kit'
import { UserStore } from '@herald/users'
import { WebhookRegistry } from '@herald/webhooks'
import { type Job, UnrecoverableError, Worker } from 'bullmq'
import { type Catalog, createCatalog, DIRECT_MESSAGE_TYPE } from './catalog'
import { pushModeOf, type WorkerConfig } from './config'
import { Deliverer } from './domain/deliver'
import { EventRecords } from './domain/event-records'
import { deliveryIdFor } from './domain/ids'
import { cachedNicknames } from './domain/user-directory'
import { createPushQueue, PushEnqueuer, pushQueueOptionsOf } from './push/queue'
import { RETRACT_JOB_TYPE } from './queue'
import { createWebhooksQueue, dispatchOptionsOf, WebhookDispatcher } from './webhooks/dispatch'
import { ReceiptHooks } from './webhooks/receipt-hooks'
import { CachedSubscribers } from './webhooks/subscribers'

export interface WorkerDeps {
  /** a `worker`-role client (maxRetriesPerRequest: null); BullMQ duplicates it for its blocking reads */
  redis: RedisClient
  logger?: WorkerLogger
  catalog?: Catalog
}

type LogFn = (obj: object, msg: string) => void
export interface WorkerLogger {
  info: LogFn
  warn: LogFn
  error: LogFn
}

export interface NotifierWorker {
  worker: Worker<EventJob, { messageIds: string[] }, string>
  close(): Promise<void>
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

/**
 * The consumer of EVENTS_QUEUE: at least once, with retries and exponential backoff (set on
 * each job by the producer), stalled-job recovery after JOB_LOCK_MS. Delivery itself is
 * idempotent per (event, user), so a retried or stalled job never delivers twice.
 */
export function startWorker(config: WorkerConfig, deps: WorkerDeps): NotifierWorker {
  const keys = keysFor(config)
  const catalog = deps.catalog ?? createCatalog()

  const records = new EventRecords(deps.redis, keys, config.EVENT_IDEMPOTENCY_SECONDS)
  const inbox = new Inbox(deps.redis, keys, {
    maxItems: config.INBOX_MAX_ITEMS,
    retentionSeconds: config.INBOX_RETENTION_SECONDS,
    streamMaxLen: config.STREAM_MAXLEN,
    push: pushModeOf(config),
  })
  const users = new UserStore(deps.redis, keys)
  const subscriptions = new PushSubscriptions(deps.redis, keys, config.PUSH_MAX_SUBSCRIPTIONS)
  // an upgrade: what messages to everyone read per partition, built from what earlier releases
  // kept per user only (once per partition; a marker key says it was done)
  const pagesOf = (p: number) => users.idPagesIn(p, config.FANOUT_CHUNK_SIZE)
  Promise.all([new Preferences(deps.redis, keys).copyToPartitions(pagesOf), subscriptions.indexSubscribers(pagesOf)])
    .then(([preferences, subscribers]) => {
      if (preferences + subscribers > 0)
        deps.logger?.info({ preferences, subscribers }, 'per-user records copied for messages to everyone')
    })
    .catch((err: Error) =>
      deps.logger?.warn({ err: err.message }, 'per-user records not copied; retried at the next start'),
    )
  const pushQueue = createPushQueue(deps.redis, keys)
  const registry = new WebhookRegistry(deps.redis, keys)
  // one cached look-up of the callers' endpoints for the receipts' `wh` and for event.failed
  const subscribers = new CachedSubscribers(registry, config.WEBHOOK_SUBSCRIBERS_CACHE_MS)
  const hooks = new ReceiptHooks(subscribers)
  const deliverer = new Deliverer(
    cachedNicknames(users, config.NICKNAME_CACHE_MS),
    inbox,
    config.FANOUT_CHUNK_SIZE,
    catalog.mandatoryKinds,
    (source) => hooks.of(source),
    new PushEnqueuer(pushQueue, pushQueueOptionsOf(config)),
    (p, n) => subscriptions.subscriberPagesIn(p, n),
  )
  const webhooksQueue = createWebhooksQueue(deps.redis, keys)
  const webhooks = new WebhookDispatcher(subscribers, webhooksQueue, dispatchOptionsOf(config))

  async function processJob(job: Job<EventJob, { messageIds: string[] }, string>) {
    const event = job.data
    const attempt = job.attemptsMade + 1
    const attempts = job.opts.attempts ?? 1
    // no event record: a failed attempt is retried by BullMQ, and no webhook tells of it
    if (event.type === RETRACT_JOB_TYPE) {
      const removed = await deliverer.retractEverywhere(String(event.data.messageId))
      deps.logger?.info({ messageId: event.data.messageId, removed }, 'message retracted from every inbox')
      return { messageIds: [] }
    }
    const batch = eventsOfBatch(event)
    if (batch) return { messageIds: await processBatch(batch, attempt, attempts) }
    return { messageIds: await processEvent(event, attempt, attempts, job.opts.delay ?? 0) }
  }

  /**
   * The events of a batch job, each as a job of its own would run (its record, its final
   * failure and webhook), at most WORKER_CONCURRENCY of them at once — as many as the worker
   * runs jobs, so a batch of large fan-outs loads Redis no more than that many jobs would. One
   * that fails for a reason a retry may cure fails the batch job, once every other event ran:
   * BullMQ retries it, and the retry finds the events that were done (their records say so)
   * and runs only the others.
   */
  async function processBatch(events: EventJob[], attempt: number, attempts: number): Promise<string[]> {
    const results: PromiseSettledResult<string[]>[] = []
    let next = 0
    const lane = async () => {
      for (let i = next++; i < events.length; i = next++) {
        try {
          results[i] = { status: 'fulfilled', value: await processEvent(events[i] as EventJob, attempt, attempts, 0) }
        } catch (reason) {
          results[i] = { status: 'rejected', reason }
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(config.WORKER_CONCURRENCY, events.length) }, lane))
    const retry = results.flatMap((r) =>
      r.status === 'rejected' && !(r.reason instanceof UnrecoverableError) ? [r.reason as Error] : [],
    )
    if (retry.length > 0) throw new Error(`${retry.length} of ${events.length} events failed: ${retry[0]?.message}`)
    return results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []))
  }

  /** One event: its message ids. Throws on failure, after its record (and on the last attempt its webhook) says so. */
  async function processEvent(event: EventJob, attempt: number, attempts: number, delay: number): Promise<string[]> {
    try {
      const def = catalog.any(event.type)
      if (!def) throw new UnrecoverableError(`Unknown event type "${event.type}"`)
      const problem = catalog.check(def, event.data)
      if (problem) throw new UnrecoverableError(problem)
      const record = await records.start(event, delay)
      // A second job for an event already delivered (it was re-added after the first was removed).
      if (record.status === 'done') return record.messageIds
      // canceled (DELETE /v1/events/:id won the race with this start) or expired before: final
      if (record.status === 'canceled' || record.status === 'expired') return []
      if (event.expiresAt !== undefined && Date.now() >= event.expiresAt) {
        await records.expired(event)
        return []
      }
      const delivery = await def.handle(
        { id: event.id, type: event.type, data: event.data, occurredAt: event.occurredAt },
        deliverer.context,
      )
      const direct = event.type === DIRECT_MESSAGE_TYPE
      const messageIds = await deliverer.deliver(deliveryIdFor(event, direct), delivery, {
        source: event.source,
        ...(event.expiresAt !== undefined ? { expiresAt: event.expiresAt } : {}),
      })
      // Holds the job open after it delivered: the worst moment for a crash (chaos tests, demos).
      if (config.WORKER_HANDLER_DELAY_MS > 0) await sleep(config.WORKER_HANDLER_DELAY_MS)
      await records.done(event, messageIds)
      return messageIds
    } catch (err) {
      const e = err as Error
      const final = e instanceof UnrecoverableError || attempt >= attempts
      await records.failed(event, e.message, final).catch(() => {})
      if (final) await emitFailed(event, e.message, attempt)
      throw err
    }
  }

  /** The `event.failed` webhook of the event's caller; a failure to queue it is logged, never rethrown. */
  async function emitFailed(event: EventJob, error: string, attempts: number) {
    const data = { eventId: event.id, type: event.type, error, attempts, failedAt: new Date().toISOString() }
    await webhooks.emit(event.source, 'event.failed', data, event.id).catch((err: Error) => {
      deps.logger?.warn({ eventId: event.id, err: err.message }, 'event.failed webhook not queued')
    })
  }

  const worker = new Worker<EventJob, { messageIds: string[] }, string>(EVENTS_QUEUE, processJob, {
    connection: deps.redis,
    prefix: keys.bullPrefix(),
    concurrency: config.WORKER_CONCURRENCY,
    lockDuration: config.JOB_LOCK_MS,
    stalledInterval: config.JOB_STALLED_INTERVAL_MS,
    maxStalledCount: 2,
    skipVersionCheck: true,
  })
  const log = deps.logger
  worker.on('failed', (job, err) => {
    log?.warn({ jobId: job?.id, type: job?.data.type, attempt: job?.attemptsMade, err: err.message }, 'job failed')
  })
  worker.on('stalled', (jobId) => log?.warn({ jobId }, 'job stalled: its worker stopped; retrying it'))
  worker.on('error', (err) => log?.error({ err: { message: err.message } }, 'worker error'))

  let closing: Promise<void> | null = null
  return {
    worker,
    close() {
      closing ??= (async () => {
        // BullMQ's close waits for the jobs in progress; started during a failover it was seen
        // to wait forever. Past the lock time those jobs are another worker's to take
        // (stalled) anyway: stop waiting for them.
        let timer: NodeJS.Timeout | undefined
        const late = new Promise<'late'>((resolve) => {
          timer = setTimeout(() => resolve('late'), config.JOB_LOCK_MS)
        })
        const closed = await Promise.race([worker.close().then(() => 'closed' as const), late])
        clearTimeout(timer)
        if (closed === 'late')
          log?.warn({ waitedMs: config.JOB_LOCK_MS }, 'jobs still running at shutdown: left to another worker')
        await webhooksQueue.close()
        await pushQueue.close()
      })()
      return closing
    },
  }
}
