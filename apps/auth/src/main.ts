import { EVENTS_QUEUE, type EventJob } from '@herald/contracts'
import { createRedis, keysFor, runService, waitReady } from '@herald/service-kit'
import { Queue } from 'bullmq'
import { buildApp } from './app'
import { loadAuthConfig } from './config'

const config = loadAuthConfig()
const keys = keysFor(config)
const redis = createRedis(config.REDIS_URL, 'command', 'auth')
// BullMQ gets its own connection: its scripts and blocking-free producer calls stay apart from the HTTP path
const queueRedis = createRedis(config.REDIS_URL, 'command', 'auth-events')
const queue = new Queue<EventJob>(EVENTS_QUEUE, { connection: queueRedis, prefix: keys.bullPrefix() })

let ready = true
const app = buildApp(config, { redis, queue, isReady: () => ready })
queue.on('error', (err) => app.log.warn({ err: { message: err.message } }, 'events queue error'))
try {
  await waitReady(redis)
} catch (err) {
  app.log.warn({ err: { message: (err as Error).message } }, 'Redis not ready yet; /readyz answers 503 until it is')
}

await runService({
  app,
  host: config.HOST,
  port: config.PORT,
  beforeClose: async () => {
    ready = false
  },
  afterClose: async () => {
    await queue.close()
    await Promise.allSettled([queueRedis.quit(), redis.quit()])
  },
})
