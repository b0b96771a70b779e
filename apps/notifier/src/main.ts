import { createRedis, runService } from '@herald/service-kit'
import { buildApp } from './app'
import { loadNotifierConfig } from './config'

const config = loadNotifierConfig()
const redis = createRedis(config.REDIS_URL, 'command', 'notifier-api')
let draining = false
const app = buildApp(config, { redis, isReady: () => !draining })

await runService({
  app,
  host: config.HOST,
  port: config.PORT,
  beforeClose: async () => {
    draining = true
  },
  afterClose: async () => {
    await redis.quit().catch(() => redis.disconnect())
  },
})
