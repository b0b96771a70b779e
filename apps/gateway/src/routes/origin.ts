import { ErrorCode } from '@herald/contracts'
import type { FastifyReply, FastifyRequest } from 'fastify'

/**
 * An `onRequest` hook that refuses a foreign Origin with a plain 403 (a page on another site
 * must not even get a socket or a stream). Non-browser clients send no Origin; browsers
 * always do on a WebSocket and on a cross-origin request. Empty `allowed`: any Origin.
 */
export function originCheck(allowed: Set<string>) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (allowed.size === 0) return
    const origin = request.headers.origin
    if (origin === undefined || allowed.has(origin)) return
    return reply.status(403).send({
      statusCode: 403,
      code: ErrorCode.FORBIDDEN,
      error: 'Forbidden',
      message: 'Origin not allowed',
    })
  }
}
