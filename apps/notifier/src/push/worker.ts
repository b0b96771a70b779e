import type { AgentOptions } from 'node:https'
import { PUSH_QUEUE, type PushJob, type PushPayload } from '@herald/contracts'
import { Inbox } from '@herald/inbox'
import { PushSender, PushSubscriptions } from '@herald/push'
import type { RedisClient } from '@herald/redis'
import { keysFor } from '@herald/service-kit'
import { type Job, Worker } from 'bullmq'
import { pushPolicyOf, vapidOf, type WorkerConfig } from '../config'
import type { WorkerLogger } from '../worker'
import { noPushMetrics, type PushMetrics } from './metrics'
import { pushBackoff, RetryLater } from './queue'

export interface PushWorker {
  worker: Worker<PushJob, void, string>
  close(): Promise<void>
}

/**
 * The consumer of PUSH_QUEUE: one job pushes one message to every Web Push subscription of
 * its user. Per subscription: sent (the receipt notes `pushedAt`), gone (404/410: the
 * subscription is removed), rejected (any other 4xx: dropped, not retried) or retry (429,
 * 5xx, network). The subscriptions done are kept on the job, so a retry (exponential backoff,
 * PUSH_ATTEMPTS) sends only to those still owed. A job held back for an online user
 * (`unlessDelivered`) sends nothing if a device acked or read the message meanwhile. A message
 * past its expiry, or retracted, is not sent; the push service keeps it at most until its expiry.
 * Null when Web Push is off (no VAPID keys): nothing is started.
 */
export function startPushWorker(
  config: WorkerConfig,
  deps: { redis: RedisClient; logger?: WorkerLogger; metrics?: PushMetrics; tls?: Pick<AgentOptions, 'ca'> },
): PushWorker | null {
  const vapid = vapidOf(config)
  if (!vapid) return null
  const keys = keysFor(config)
  const subscriptions = new PushSubscriptions(deps.redis, keys, config.PUSH_MAX_SUBSCRIPTIONS)
  const inbox = new Inbox(deps.redis, keys, {
    maxItems: config.INBOX_MAX_ITEMS,
    retentionSeconds: config.INBOX_RETENTION_SECONDS,
    streamMaxLen: config.STREAM_MAXLEN,
  })
  const sender = new PushSender({
    vapid,
    policy: pushPolicyOf(config),
    timeoutMs: config.PUSH_TIMEOUT_MS,
    ...(deps.tls ? { tls: deps.tls } : {}),
  })
  const metrics = deps.metrics ?? noPushMetrics
  const log = deps.logger

  async function push(job: Job<PushJob, void, string>): Promise<void> {
    const { userId, messageId, unlessDelivered, expiresAt } = job.data
    const left = expiresAt === undefined ? Number.POSITIVE_INFINITY : Math.ceil((expiresAt - Date.now()) / 1000)
    if (left <= 0) return
    // held back or retried: the message may have been acked, read or taken back meanwhile
    if (unlessDelivered || job.attemptsMade > 0) {
      const receipt = await inbox.receipt(messageId)
      if (!receipt || receipt.retractedAt) return
      if (unlessDelivered && (receipt.deliveredAt || receipt.readAt || receipt.pushedAt)) return
    }
    const done = new Set(job.data.done ?? [])
    const owed = (await subscriptions.list(userId)).filter((s) => !done.has(s.id))
    if (owed.length === 0) return
    const payload: PushPayload = { id: messageId, kind: job.data.kind, title: job.data.title, body: job.data.body }
    const options = {
      ttl: Math.min(config.PUSH_TTL_SECONDS, left),
      urgency: job.data.mandatory ? 'high' : config.PUSH_URGENCY,
    }
    const results = await Promise.all(
      owed.map(async (sub) => ({ sub, res: await sender.send(sub, JSON.stringify(payload), options) })),
    )
    let retry = 0
    let retryAfterMs = 0
    let sent = false
    for (const { sub, res } of results) {
      if (res.outcome === 'retry') {
        retry++
        retryAfterMs = Math.max(retryAfterMs, res.retryAfterMs ?? 0)
        metrics.failed('retry')
        continue
      }
      done.add(sub.id)
      if (res.outcome === 'sent') {
        sent = true
        metrics.sent()
      } else if (res.outcome === 'gone') {
        if (await subscriptions.removeId(userId, sub.id)) metrics.removed()
      } else {
        metrics.failed('rejected')
        log?.warn({ messageId, status: res.status, err: res.error }, 'push rejected by the push service')
      }
    }
    if (sent) await inbox.markPushed(userId, messageId)
    if (retry > 0) {
      await job.updateData({ ...job.data, done: [...done] })
      throw new RetryLater(`${retry} push subscription(s) to retry`, retryAfterMs)
    }
  }

  const worker = new Worker<PushJob, void, string>(PUSH_QUEUE, push, {
    connection: deps.redis,
    prefix: keys.bullPrefix(),
    concurrency: config.PUSH_CONCURRENCY,
    lockDuration: Math.max(config.JOB_LOCK_MS, 2 * config.PUSH_TIMEOUT_MS),
    stalledInterval: config.JOB_STALLED_INTERVAL_MS,
    maxStalledCount: 2,
    skipVersionCheck: true,
    settings: { backoffStrategy: pushBackoff(config.PUSH_BACKOFF_MS) },
  })
  // never the endpoint (a capability URL) nor the keys
  worker.on('failed', (job, err) =>
    log?.warn({ jobId: job?.id, attempt: job?.attemptsMade, err: err.message }, 'push attempt failed'),
  )
  worker.on('error', (err) => log?.error({ err: { message: err.message } }, 'push worker error'))

  return {
    worker,
    async close() {
      await worker.close()
      sender.close()
    },
  }
}
