import type { WebhookJob } from '@herald/contracts'
import type { Worker } from 'bullmq'
import { Counter, type Registry } from 'prom-client'

/**
 * `herald_webhook_attempts_total{type,outcome}` in `registry`: webhook delivery attempts this
 * worker finished — `completed` (a 2xx, or a job dropped because its endpoint is gone or
 * disabled, or its offline was voided) or `failed` (every failed attempt, retried or not).
 */
export function registerWebhookMetrics(registry: Registry, worker: Pick<Worker<WebhookJob, void, string>, 'on'>) {
  const attempts = new Counter({
    name: 'herald_webhook_attempts_total',
    help: 'Webhook delivery attempts this worker finished, by event type and outcome',
    labelNames: ['type', 'outcome'] as const,
    registers: [registry],
  })
  worker.on('completed', (job) => attempts.inc({ type: job.data.type, outcome: 'completed' }))
  worker.on('failed', (job) => {
    if (job) attempts.inc({ type: job.data.type, outcome: 'failed' })
  })
}
