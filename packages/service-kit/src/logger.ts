import type { FastifyServerOptions } from 'fastify'

/**
 * Paths pino censors wherever they appear in a log object. Secrets also never reach
 * the logs through URLs: the request serializer drops the query string.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["sec-websocket-protocol"]',
  'headers.authorization',
  'authorization',
  'token',
  'code',
  'ticket',
  'password',
  '*.token',
  '*.code',
  '*.ticket',
  '*.password',
  '*.authorization',
]

/** Drops `?…` from a URL: query strings may carry tickets or cursors. */
export function stripQuery(url: string | undefined): string {
  if (!url) return ''
  const i = url.indexOf('?')
  return i === -1 ? url : url.slice(0, i)
}

export interface LoggerOptions {
  level: string
  service: string
  replica: string
  /** a destination stream (tests capture logs with it) */
  stream?: NodeJS.WritableStream
}

export function loggerOptions(opts: LoggerOptions): NonNullable<FastifyServerOptions['logger']> {
  return {
    level: opts.level,
    base: { service: opts.service, replica: opts.replica },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    ...(opts.stream ? { stream: opts.stream } : {}),
    serializers: {
      req(req: { method?: string; url?: string; ip?: string; id?: string }) {
        return { method: req.method, url: stripQuery(req.url), ip: req.ip, id: req.id }
      },
    },
  } as NonNullable<FastifyServerOptions['logger']>
}
