import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ControlReason, SessionIdParams, SessionView } from '@herald/contracts'
import { requireSession } from '@herald/service-kit'
import { Type } from 'typebox'
import { AuthErrors } from '../errors'
import { errorReplies, isoFromMs, NoContent } from './common'

/**
 * Logout, logout-all and the session list. Ending a session also puts a control entry on
 * the delivery stream, so every gateway closes that session's sockets (4409).
 */
export const sessionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const noContent = { preHandler: requireSession, schema: { response: { 204: NoContent, ...errorReplies } } }

  app.post('/logout', noContent, async (request, reply) => {
    const { userId, id } = request.session!
    await app.sessions.revoke(userId, id)
    await app.control.close(userId, ControlReason.LOGOUT, id)
    request.log.info({ userId, sessionId: id }, 'signed out')
    return reply.status(204).send(null)
  })

  app.post('/logout-all', noContent, async (request, reply) => {
    const { userId } = request.session!
    const ended = await app.sessions.revokeAll(userId)
    await app.control.close(userId, ControlReason.LOGOUT_ALL)
    request.log.info({ userId, sessions: ended.length }, 'signed out everywhere')
    return reply.status(204).send(null)
  })

  app.get(
    '/sessions',
    { preHandler: requireSession, schema: { response: { 200: Type.Array(SessionView), ...errorReplies } } },
    async (request) => {
      const current = request.session!
      const sessions = await app.sessions.list(current.userId)
      return sessions.map((s) => ({
        id: s.id,
        device: s.device,
        createdAt: isoFromMs(s.createdAt),
        lastSeenAt: isoFromMs(s.lastSeenAt),
        current: s.id === current.id,
      }))
    },
  )

  app.delete(
    '/sessions/:id',
    {
      preHandler: requireSession,
      schema: { params: SessionIdParams, response: { 204: NoContent, ...errorReplies } },
    },
    async (request, reply) => {
      const { userId } = request.session!
      const { id } = request.params
      // only the caller's own index is searched: another user's session id is simply not found
      if (!(await app.sessions.revoke(userId, id))) throw new AuthErrors.SessionNotFound()
      await app.control.close(userId, ControlReason.SESSION_REVOKED, id)
      request.log.info({ userId, sessionId: id }, 'session revoked')
      return reply.status(204).send(null)
    },
  )
}
