import {
  ErrorResponse,
  InboxCounts,
  InboxPage,
  InboxQuery,
  InboxReadBody,
  InboxStateBody,
  InboxStateReply,
  MessageIdParams,
} from '@herald/contracts'
import type { Inbox } from '@herald/inbox'
import { requireSession, type ServiceApp } from '@herald/service-kit'
import { Type } from 'typebox'
import { NotifierErrors } from '../errors'
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
        description:
          'Pages backwards: pass `nextBefore` as `before` for older messages. Reload it after a `gap`. ' +
          'Lists every message not archived, or with `state` the unread, read (both not archived) or archived ones, ' +
          'with `kind` those of one kind. `unread` counts the unread messages not archived.',
        security: [{ [SESSION_TOKEN]: [] }],
        querystring: InboxQuery,
        response: { 200: InboxPage, 400: ErrorResponse, 401: ErrorResponse, 503: ErrorResponse },
      },
    },
    async (request) => {
      const userId = request.session!.userId
      const { before, limit, kind, state } = request.query
      return inbox.page(userId, {
        ...(before ? { before } : {}),
        limit: limit ?? 50,
        ...(kind ? { kind } : {}),
        ...(state ? { state } : {}),
      })
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

  app.get(
    '/inbox/counts',
    {
      preHandler: requireSession,
      schema: {
        tags: ['inbox'],
        summary: 'How many messages are in each state',
        description: 'Total, unseen and unread leave archived messages out. One Redis script: no scan.',
        security: [{ [SESSION_TOKEN]: [] }],
        response: { 200: InboxCounts, 401: ErrorResponse, 503: ErrorResponse },
      },
    },
    async (request) => inbox.counts(request.session!.userId),
  )

  app.post(
    '/inbox/state',
    {
      preHandler: requireSession,
      schema: {
        tags: ['inbox'],
        summary: 'Mark messages seen, read, unread, archived, unarchived or deleted',
        description:
          'The listed ids (at most 100), or for seen, read and archived every message up to a cursor (inclusive). ' +
          "The user's other open tabs and devices get a `state` frame (read: the `read` frame). " +
          'Ids not in the inbox are skipped.',
        security: [{ [SESSION_TOKEN]: [] }],
        body: InboxStateBody,
        response: { 200: InboxStateReply, 400: ErrorResponse, 401: ErrorResponse, 503: ErrorResponse },
      },
    },
    async (request) => {
      const body = request.body
      const target = 'upTo' in body ? { upTo: body.upTo } : { ids: body.ids }
      const changed = await inbox.setState(request.session!.userId, body.state, target)
      return { changed: changed.length }
    },
  )

  app.delete(
    '/inbox/:id',
    {
      preHandler: requireSession,
      schema: {
        tags: ['inbox'],
        summary: 'Delete a message from the inbox',
        description: "Gone from the list, the counts and replays; the user's other devices get a `state` frame.",
        security: [{ [SESSION_TOKEN]: [] }],
        params: MessageIdParams,
        response: { 204: Type.Null(), 400: ErrorResponse, 401: ErrorResponse, 404: ErrorResponse, 503: ErrorResponse },
      },
    },
    async (request, reply) => {
      const { id } = request.params
      const changed = await inbox.setState(request.session!.userId, 'deleted', { ids: [id] })
      if (changed.length === 0) throw new NotifierErrors.NotFound(`Message ${id}`)
      return reply.status(204).send(null)
    },
  )
}
