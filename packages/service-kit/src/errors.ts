import createError from '@fastify/error'
import { ErrorCode } from '@herald/contracts'
import type { FastifyError, FastifyInstance } from 'fastify'

/** Coded errors shared by every service. `code` is the stable value clients branch on. */
export const HttpErrors = {
  Unauthorized: createError(ErrorCode.UNAUTHORIZED, 'Missing, invalid or expired session token', 401),
  NotFound: createError(ErrorCode.NOT_FOUND, '%s not found', 404),
  ServiceUnavailable: createError(ErrorCode.SERVICE_UNAVAILABLE, 'Service temporarily unavailable, retry later', 503),
  TooManyRequests: createError(ErrorCode.TOO_MANY_REQUESTS, 'Too many requests, retry in %s s', 429),
}

const REASON: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
}

/** Errors that mean "Redis is unreachable right now": the client gets 503, not 500. */
export function isRedisUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false
  const m = err.message
  return (
    err.name === 'MaxRetriesPerRequestError' ||
    m.includes("Stream isn't writeable") ||
    m.includes('Connection is closed') ||
    m.includes('Command timed out') ||
    m.includes('ECONNREFUSED') ||
    m.includes('LOADING') ||
    m.includes('BUSY Redis')
  )
}

/** Fastify's own client-error codes, mapped to herald's stable codes. */
function clientCode(err: FastifyError, status: number): string {
  if (err.validation) return ErrorCode.VALIDATION_ERROR
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return status === 415 ? ErrorCode.UNSUPPORTED_MEDIA_TYPE : ErrorCode.VALIDATION_ERROR
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return ErrorCode.PAYLOAD_TOO_LARGE
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return ErrorCode.INVALID_JSON
  }
  if (err instanceof SyntaxError) return ErrorCode.INVALID_JSON
  if (err.code && !err.code.startsWith('FST_')) return err.code
  if (status === 413) return ErrorCode.PAYLOAD_TOO_LARGE
  if (status === 415) return ErrorCode.UNSUPPORTED_MEDIA_TYPE
  if (status === 404) return ErrorCode.NOT_FOUND
  if (status === 401) return ErrorCode.UNAUTHORIZED
  if (status === 403) return ErrorCode.FORBIDDEN
  if (status === 429) return ErrorCode.TOO_MANY_REQUESTS
  return ErrorCode.VALIDATION_ERROR
}

/** One error handler for every service: stable codes, and nothing internal leaves on a 5xx. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    let status = err.statusCode ?? 500
    if (status < 400 || status > 599) status = 500
    if (status >= 500) {
      const unavailable = status === 503 || isRedisUnavailable(err)
      request.log.error({ err: { type: err.name, message: err.message, code: err.code } }, 'request failed')
      const s = unavailable ? 503 : 500
      return reply.status(s).send({
        statusCode: s,
        code: unavailable ? ErrorCode.SERVICE_UNAVAILABLE : ErrorCode.INTERNAL_ERROR,
        error: REASON[s],
        message: unavailable ? 'Service temporarily unavailable, retry later' : 'Internal error',
      })
    }
    return reply.status(status).send({
      statusCode: status,
      code: clientCode(err, status),
      error: REASON[status] ?? 'Error',
      message: err.message,
    })
  })
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({
      statusCode: 404,
      code: ErrorCode.NOT_FOUND,
      error: 'Not Found',
      message: `Route ${request.method} ${request.url.split('?')[0]} not found`,
    })
  })
}
