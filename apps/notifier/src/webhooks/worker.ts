import { WEBHOOKS_QUEUE, type WebhookJob } from '@herald/contracts'
import { stillOfflineSince } from '@herald/presence'
import type { RedisClient } from '@herald/redis'
import { keysFor } from '@herald/service-kit'
import { WebhookRegistry, WebhookSender } from '@herald/webhooks'
import { type Job, UnrecoverableError, Worker } from 'bullmq'
import { type WorkerConfig, webhookPolicyOf } from '../config'
import type { WorkerLogger } from '../worker'
import { createWebhooksQueue, dispatchOptionsOf, WebhookDispatcher } from './dispatch'
import { OutboxRelay } from './outbox'
import { CachedSubscribers } from './subscribers'

export interface WebhookWorker {
  worker: Worker<WebhookJob, void, string>
  close(): Promise<void>
}

/**
 * The consumer of WEBHOOKS_QUEUE, and the relay that fills it from the partitions' webhook
 * outboxes (first acks, first reads): one signed POST per attempt, retried with exponential
 * backoff (set on each job). Every attempt is logged on its endpoint, and a failure streak of
 * WEBHOOK_DISABLE_AFTER_FAILURES disables the endpoint: its pending jobs then end without
 * sending. A deleted or disabled endpoint's jobs end at once. The signing secret is read
 * from the registry per attempt and never logged.
 */
export function startWebhookWorker(
  config: WorkerConfig,
  deps: { redis: RedisClient; logger?: WorkerLogger },
): WebhookWorker {
  const keys = keysFor(config)
  const registry = new WebhookRegistry(deps.redis, keys)
  const sender = new WebhookSender({ policy: webhookPolicyOf(config), timeoutMs: config.WEBHOOK_TIMEOUT_MS })
  const log = deps.logger
  const queue = createWebhooksQueue(deps.redis, keys)
  const relay = new OutboxRelay(
    deps.redis,
    keys,
    new WebhookDispatcher(
      new CachedSubscribers(registry, config.WEBHOOK_SUBSCRIBERS_CACHE_MS),
      queue,
      dispatchOptionsOf(config),
    ),
    { pollMs: config.WEBHOOK_OUTBOX_POLL_MS },
    log,
  )
  relay.start()

  async function deliver(job: Job<WebhookJob, void, string>): Promise<void> {
    const { endpointId, messageId, type, body, settle } = job.data
    const target = await registry.target(endpointId)
    if (!target?.enabled) return
    // an offline voided by a reconnect (or superseded by a later disconnect) is not sent
    if (settle && !(await stillOfflineSince(deps.redis, keys, settle.userId, settle.since))) return
    const attempt = job.attemptsMade + 1
    const started = Date.now()
    const res = await sender.send(target.url, target.secret, messageId, body)
    const outcome = await registry.record(
      endpointId,
      {
        messageId,
        type,
        attempt,
        at: new Date(started).toISOString(),
        ok: res.ok,
        ...(res.status !== undefined ? { status: res.status } : {}),
        ...(res.error ? { error: res.error } : {}),
        durationMs: res.durationMs,
      },
      { logMax: config.WEBHOOK_LOG_MAX, disableAfter: config.WEBHOOK_DISABLE_AFTER_FAILURES },
    )
    if (res.ok || outcome === 'gone') return
    if (outcome === 'disabled') {
      log?.warn({ endpointId }, 'webhook endpoint disabled after a failure streak')
      throw new UnrecoverableError('endpoint disabled')
    }
    throw new Error(res.error ?? 'delivery failed')
  }

  const worker = new Worker<WebhookJob, void, string>(WEBHOOKS_QUEUE, deliver, {
    connection: deps.redis,
    prefix: keys.bullPrefix(),
    concurrency: config.WEBHOOK_CONCURRENCY,
    // an attempt holds the job at most for the delivery deadline
    lockDuration: Math.max(config.JOB_LOCK_MS, 2 * config.WEBHOOK_TIMEOUT_MS),
    stalledInterval: config.JOB_STALLED_INTERVAL_MS,
    maxStalledCount: 2,
    skipVersionCheck: true,
  })
  worker.on('failed', (job, err) => {
    log?.warn(
      { jobId: job?.id, endpointId: job?.data.endpointId, attempt: job?.attemptsMade, err: err.message },
      'webhook delivery failed',
    )
  })
  worker.on('error', (err) => log?.error({ err: { message: err.message } }, 'webhook worker error'))

  return {
    worker,
    async close() {
      await relay.stop()
      await worker.close()
      await queue.close()
      await sender.close()
    },
  }
}
