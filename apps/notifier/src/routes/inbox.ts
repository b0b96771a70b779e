import { ErrorResponse, InboxPage, InboxQuery, InboxReadBody } from '@herald/contracts'
import type { Inbox } from '@herald/inbox'
import { requireSession, type ServiceApp } from '@herald/service-kit'
import { Type } from 'typebox'
import { SESSION_TOKEN } from '../plugins/openapi'

export interface InboxRoutesOptions {
  inbox: Inbox
}

/** The signed-in user's inbox (browsers). Session tokens are checked and slid by sessionAuthPlugin. */
export async function inboxRoutes(app: ServiceApp, opts: InboxRoutesOptions): Promise<void> {
  const { inbox } = opts

  app.get(
    '/inbox',
    {
      preHandler: requireSession,
      schema: {
        tags: ['inbox'],
        summary: "The signed-in user's messages, newest first",
        description: 'Pages backwards: pass `nextBefore` as `before` for older messages. Reload it after a `gap`.',
        security: [{ [SESSION_TOKEN]: [] }],
        querystring: InboxQuery,
        response: { 200: InboxPage, 400: ErrorResponse, 401: ErrorResponse, 503: ErrorResponse },
      },
    },
    async (request) => {
      const userId = request.session!.userId
      const { before, limit } = request.query
      return inbox.page(userId, { ...(before ? { before } : {}), limit: limit ?? 50 })
    },
  )

  app.post(
    '/inbox/read',
    {
      preHandler: requireSession,
      schema: {
        tags: ['inbox'],
        summary: 'Mark messages read',
        description: "Marks the ids (or all) read; the user's other open tabs and devices get a `read` frame.",
        security: [{ [SESSION_TOKEN]: [] }],
        body: InboxReadBody,
        response: { 204: Type.Null(), 400: ErrorResponse, 401: ErrorResponse, 503: ErrorResponse },
      },
    },
    async (request, reply) => {
      const userId = request.session!.userId
      const body = request.body
      if ('all' in body) await inbox.markAllRead(userId)
      else await inbox.markRead(userId, body.ids)
      return reply.status(204).send(null)
    },
  )
}
