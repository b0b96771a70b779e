import { randomBytes, randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { hostname } from 'node:os'
import cors from '@fastify/cors'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { RedisClient } from '@herald/redis'
import Ajv from 'ajv'
import addFormats from 'ajv-formats'
import Fastify, { type FastifyInstance, LogController, type RawServerDefault } from 'fastify'
import type { BaseConfig } from './config'
import { installErrorHandling } from './errors'
import { healthPlugin } from './health'
import { loggerOptions } from './logger'
import { securityHeadersPlugin } from './security-headers'

export type ServiceApp = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyInstance['log'],
  TypeBoxTypeProvider
>

export interface ServiceAppOptions {
  service: string
  config: BaseConfig
  /** the command connection used for readiness */
  redis: RedisClient
  /** a pino destination; tests capture logs with it */
  logStream?: NodeJS.WritableStream
  /** false while the replica drains (readyz answers 503) */
  isReady?: () => boolean
}

/**
 * REPLICA_ID, or a name unique to this process: in containers every replica is pid 1 (and a
 * restarted container keeps its hostname), so the pid alone named all three gateways alike.
 */
export function replicaName(config: BaseConfig, service: string): string {
  return config.REPLICA_ID || `${service}-${hostname()}-${process.pid}-${PROCESS_TAG}`
}
const PROCESS_TAG = randomBytes(2).toString('hex')

/**
 * Body and headers are validated strictly (no type coercion, unknown properties refused
 * where the schema says so); querystring and params may coerce strings to numbers.
 */
function validatorCompiler() {
  const strict = new Ajv({
    removeAdditional: false,
    useDefaults: true,
    coerceTypes: false,
    allErrors: false,
    strict: false,
  })
  const coercing = new Ajv({
    removeAdditional: false,
    useDefaults: true,
    coerceTypes: 'array',
    allErrors: false,
    strict: false,
  })
  addFormats.default(strict)
  addFormats.default(coercing)
  return ({ schema, httpPart }: { schema: object; httpPart?: string }) =>
    (httpPart === 'body' ? strict : coercing).compile(schema)
}

/** The Fastify instance every herald service starts from: logger, limits, validation, errors, health and metrics. */
export function createServiceApp(opts: ServiceAppOptions): ServiceApp {
  const { config } = opts
  const trust = config.TRUST_PROXY.split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  const app = Fastify({
    logger: loggerOptions({
      level: config.LOG_LEVEL,
      service: opts.service,
      replica: replicaName(config, opts.service),
      ...(opts.logStream ? { stream: opts.logStream } : {}),
    }),
    trustProxy: trust.length ? trust : false,
    bodyLimit: config.BODY_LIMIT_BYTES,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    return503OnClosing: true,
    forceCloseConnections: true,
    // one access line per request (below), not Fastify's two
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
  }).withTypeProvider<TypeBoxTypeProvider>()
  app.setValidatorCompiler(validatorCompiler())
  // The access log: one line when the response is sent, at the route's log level (health
  // checks log nothing below warn). Half the lines, and the cost, of "incoming request" +
  // "request completed", with everything both said.
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      { req: request, res: { statusCode: reply.statusCode }, responseTime: reply.elapsedTime },
      'request completed',
    )
  })
  installErrorHandling(app as unknown as FastifyInstance)
  app.register(securityHeadersPlugin)
  const origins = config.CORS_ORIGINS.split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  if (origins.length) {
    // Only listed origins; tokens travel in the Authorization header, never in cookies.
    app.register(cors, {
      origin: origins,
      credentials: false,
      maxAge: 600,
      allowedHeaders: ['authorization', 'content-type', 'idempotency-key'],
    })
  }
  app.register(healthPlugin, { redis: opts.redis, isReady: opts.isReady ?? (() => true) })
  return app as ServiceApp
}
