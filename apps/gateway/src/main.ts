import { createRedis, runService, waitReady } from '@herald/service-kit'
import { buildApp } from './app'
import { loadGatewayConfig } from './config'

const config = loadGatewayConfig()
const redis = createRedis(config.REDIS_URL, 'command', 'gateway')
const blocking = createRedis(config.REDIS_URL, 'blocking', 'gateway')
await Promise.all([waitReady(redis), waitReady(blocking)])
const app = await buildApp(config, { redis, blocking })

await runService({
  app,
  host: config.HOST,
  port: config.PORT,
  // sockets are closed 1012 and presence is left before the server stops
  beforeClose: () => app.gateway.drain(),
  afterClose: async () => {
    blocking.disconnect()
    await redis.quit()
  },
})
