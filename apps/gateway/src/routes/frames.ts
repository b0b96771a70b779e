import { ClientFrame, ErrorCode, ErrorResponse } from '@herald/contracts'
import type { Inbox } from '@herald/inbox'
import { requireSession, type SessionStore, sessionAuthPlugin } from '@herald/service-kit'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import type { AckBatcher } from '../ack-batcher'
import { applyClientFrame } from '../frames'
import { TokenBucket } from '../rate-limit'

export interface FramesRouteOptions {
  inbox: Inbox
  /** the replica's ack batcher (the sockets' acks and these go together) */
  acks: AckBatcher
  sessions: SessionStore
  /** the socket's frame limits, per session (FRAME_RATE_PER_SECOND, FRAME_BURST) */
  limits: { ratePerSecond: number; burst: number }
}

/** The most sessions whose buckets one replica keeps; past it they start afresh (bounded memory). */
const MAX_BUCKETS = 10_000

/**
 * `POST /sse/frames` with `Authorization: Bearer <session token>` and one client frame as
 * the body — `{"type":"ack","ids":[…]}`, `{"type":"read","ids":[…]}` or `{"type":"state",…}` — the frames a
 * WebSocket client sends on its socket, for a client on the event stream (which only reads).
 * Any replica answers (nothing here is about one stream): an ack records the receipt for
 * the session's device, a read or state change reaches the user's other tabs and devices.
 * Limited like a socket's frames, per session and replica: past the burst, 429
 * `TOO_MANY_REQUESTS` with `Retry-After`.
 */
export async function framesRoutes(app: FastifyInstance, opts: FramesRouteOptions): Promise<void> {
  await app.register(sessionAuthPlugin, { sessions: opts.sessions })
  const buckets = new Map<string, TokenBucket>()
  const take = (sessionId: string): boolean => {
    let bucket = buckets.get(sessionId)
    if (!bucket) {
      if (buckets.size >= MAX_BUCKETS) buckets.clear()
      bucket = new TokenBucket(opts.limits.ratePerSecond, opts.limits.burst)
      buckets.set(sessionId, bucket)
    }
    return bucket.take()
  }
  app.post<{ Body: ClientFrame }>(
    '/sse/frames',
    {
      preHandler: requireSession,
      schema: {
        body: ClientFrame,
        response: { 204: Type.Null(), 400: ErrorResponse, 401: ErrorResponse, 429: ErrorResponse, 503: ErrorResponse },
      },
    },
    async (request, reply) => {
      const session = request.session!
      if (!take(session.id)) {
        return reply
          .status(429)
          .header('retry-after', String(Math.ceil(1 / opts.limits.ratePerSecond)))
          .send({
            statusCode: 429,
            code: ErrorCode.TOO_MANY_REQUESTS,
            error: 'Too Many Requests',
            message: 'Too many frames for this session; retry later',
          })
      }
      await applyClientFrame(opts, request.body, { userId: session.userId, sessionId: session.id })
      return reply.status(204).send(null)
    },
  )
}
