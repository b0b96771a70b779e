import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { TICKET_TTL_SECONDS, WsTicketReply } from '@herald/contracts'
import { requireSession } from '@herald/service-kit'
import { errorReplies } from './common'

/** POST /auth/ws-ticket: a 60 s single-use JWT a browser puts in the WebSocket URL. */
export const wsTicketRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/ws-ticket',
    { preHandler: requireSession, schema: { response: { 200: WsTicketReply, ...errorReplies } } },
    async (request) => {
      const { userId, id } = request.session!
      return { ticket: app.issueTicket(userId, id), expiresIn: TICKET_TTL_SECONDS }
    },
  )
}
