import { createRedis, loggerOptions, replicaName } from '@herald/service-kit'
import closeWithGrace from 'close-with-grace'
import pino from 'pino'
import { loadNotifierConfig } from './config'
import { startWorker } from './worker'

const config = loadNotifierConfig()
const logger = pino(
  loggerOptions({
    level: config.LOG_LEVEL,
    service: 'notifier-worker',
    replica: replicaName(config, 'notifier-worker'),
  }) as pino.LoggerOptions,
)
const redis = createRedis(config.REDIS_URL, 'worker', 'notifier-worker')
const running = startWorker(config, { redis, logger })
logger.info({ concurrency: config.WORKER_CONCURRENCY }, 'worker started')

closeWithGrace({ delay: 25_000 }, async ({ signal, err }) => {
  if (err) logger.error({ err: { message: err.message, type: err.name } }, 'shutting down after an error')
  else logger.info({ signal }, 'shutting down: finishing active jobs')
  // worker.close() waits for the jobs in progress; what is left is picked up by another worker.
  await running.close()
  await redis.quit().catch(() => redis.disconnect())
})
