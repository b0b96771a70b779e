import { EVENTS_QUEUE, type EventJob } from '@herald/contracts'
import { createRedis, createServiceApp, keysFor, runService } from '@herald/service-kit'
import { Queue } from 'bullmq'
import { loadWorkerConfig } from './config'
import { registerPushMetrics } from './push/metrics'
import { startPushWorker } from './push/worker'
import { registerWebhookMetrics } from './webhooks/metrics'
import { startWebhookWorker } from './webhooks/worker'
import { startWorker } from './worker'
import { registerWorkerMetrics } from './worker-metrics'

const config = loadWorkerConfig()
const redis = createRedis(config.REDIS_URL, 'worker', 'notifier-worker')
let closing = false
// /healthz, /readyz (Redis reachable, not shutting down) and /metrics, like every service.
const app = createServiceApp({ service: 'notifier-worker', config, redis, isReady: () => !closing })
const running = startWorker(config, { redis, logger: app.log })
const webhooks = startWebhookWorker(config, { redis, logger: app.log })
const queue = new Queue<EventJob>(EVENTS_QUEUE, {
  connection: redis,
  prefix: keysFor(config).bullPrefix(),
  skipVersionCheck: true,
})
// app.metrics (the service's registry) exists once the health plugin has loaded
await app.ready()
registerWorkerMetrics(app.metrics, queue, running.worker)
registerWebhookMetrics(app.metrics, webhooks.worker)
// Web Push: only with VAPID keys configured (null otherwise)
const push = startPushWorker(config, { redis, logger: app.log, metrics: registerPushMetrics(app.metrics) })

await runService({
  app,
  host: config.HOST,
  port: config.WORKER_PORT,
  // worker.close() waits for the jobs in progress; what is left is picked up by another worker.
  graceMs: 25_000,
  beforeClose: async () => {
    closing = true
    app.log.info('shutting down: finishing active jobs')
  },
  afterClose: async () => {
    await running.close()
    await webhooks.close()
    await push?.close()
    await queue.close()
    await redis.quit().catch(() => redis.disconnect())
  },
})
app.log.info(
  { concurrency: config.WORKER_CONCURRENCY, port: app.server.address(), webPush: push !== null },
  'worker started',
)
