import { createRedis, runService, waitReady } from '@herald/service-kit'
import { buildApp } from './app'
import { loadGatewayConfig } from './config'

const config = loadGatewayConfig()
const redis = createRedis(config.REDIS_URL, 'command', 'gateway')
await waitReady(redis)
const app = await buildApp(config, {
  redis,
  readerClient: () => createRedis(config.REDIS_URL, 'blocking', 'gateway-reader'),
})

await runService({
  app,
  host: config.HOST,
  port: config.PORT,
  // sockets are closed 1012 and presence is left before the server stops
  beforeClose: () => app.gateway.drain(),
  afterClose: async () => {
    await redis.quit()
  },
})
