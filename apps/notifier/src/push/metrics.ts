import { Counter, type Registry } from 'prom-client'

/** What the push worker counts (a no-op where no registry is given). */
export interface PushMetrics {
  /** a push service accepted a message for one subscription */
  sent(): void
  /** an attempt failed: `retry` (429, 5xx, network; tried again) or `rejected` (other answers; not retried) */
  failed(reason: 'retry' | 'rejected'): void
  /** a subscription removed because its push service answered 404 or 410 */
  removed(): void
}

export const noPushMetrics: PushMetrics = { sent() {}, failed() {}, removed() {} }

/** `herald_push_sent_total`, `herald_push_failed_total{reason}`, `herald_push_subscriptions_removed_total` in `registry`. */
export function registerPushMetrics(registry: Registry): PushMetrics {
  const sent = new Counter({
    name: 'herald_push_sent_total',
    help: 'Web Push messages a push service accepted (one per subscription)',
    registers: [registry],
  })
  const failed = new Counter({
    name: 'herald_push_failed_total',
    help: 'Web Push attempts that failed, by reason: retry (429, 5xx, network) or rejected (any other answer)',
    labelNames: ['reason'] as const,
    registers: [registry],
  })
  const removed = new Counter({
    name: 'herald_push_subscriptions_removed_total',
    help: 'Web Push subscriptions removed because their push service answered 404 or 410',
    registers: [registry],
  })
  return {
    sent: () => sent.inc(),
    failed: (reason) => failed.inc({ reason }),
    removed: () => removed.inc(),
  }
}
