import { ControlReason, ErrorResponse, PresenceView, Scope, UserIdParams } from '@herald/contracts'
import type { Keys } from '@herald/keys'
import { type ControlWriter, getPresence } from '@herald/presence'
import type { RedisClient } from '@herald/redis'
import type { ServiceApp } from '@herald/service-kit'
import { Type } from 'typebox'
import { SERVICE_TOKEN } from '../plugins/openapi'
import { requireScope } from '../plugins/service-auth'

export interface UserRoutesOptions {
  redis: RedisClient
  keys: Keys
  writer: ControlWriter
}

export async function userRoutes(app: ServiceApp, opts: UserRoutesOptions): Promise<void> {
  const { redis, keys, writer } = opts

  app.get(
    '/v1/users/:id/presence',
    {
      onRequest: requireScope(Scope.PRESENCE_READ),
      schema: {
        tags: ['users'],
        summary: 'Is the user online, and where',
        description: 'Online while any of their sockets is open on a live gateway replica.',
        security: [{ [SERVICE_TOKEN]: [] }],
        params: UserIdParams,
        response: { 200: PresenceView, 401: ErrorResponse, 403: ErrorResponse, 503: ErrorResponse },
      },
    },
    async (request) => getPresence(redis, keys, request.params.id),
  )

  app.post(
    '/v1/users/:id/disconnect',
    {
      onRequest: requireScope(Scope.USERS_DISCONNECT),
      schema: {
        tags: ['users'],
        summary: "Close all the user's sockets",
        description:
          'Every socket of the user, on every gateway, closes with 4409. Sessions stay valid: clients may reconnect.',
        security: [{ [SERVICE_TOKEN]: [] }],
        params: UserIdParams,
        response: { 204: Type.Null(), 401: ErrorResponse, 403: ErrorResponse, 503: ErrorResponse },
      },
    },
    async (request, reply) => {
      await writer.close(request.params.id, ControlReason.DISCONNECTED)
      return reply.status(204).send(null)
    },
  )
}
