import {
  ErrorResponse,
  type EventJob,
  MessageIdParams,
  MessageReceipt,
  Scope,
  SendMessageBody,
  SendMessageReply,
} from '@herald/contracts'
import type { Inbox } from '@herald/inbox'
import type { ServiceApp } from '@herald/service-kit'
import { Type } from 'typebox'
import { DIRECT_MESSAGE_TYPE } from '../catalog'
import { directMessage } from '../catalog/direct-message'
import type { Deliverer } from '../domain/deliver'
import type { Durability } from '../domain/durability'
import type { EventRecords } from '../domain/event-records'
import { broadcastMessageIdFor, messageIdFor, messageRequestId } from '../domain/ids'
import type { EventIntake } from '../domain/intake'
import { NotifierErrors } from '../errors'
import { SERVICE_TOKEN } from '../plugins/openapi'
import { callerOf, requireScope } from '../plugins/service-auth'

export interface MessageRoutesOptions {
  intake: EventIntake
  durability: Durability
  inbox: Inbox
  /** writes small immediate requests inline (see MESSAGES_INLINE_MAX_RECIPIENTS) */
  inline: { deliverer: Deliverer; records: EventRecords; maxRecipients: number }
}

const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 128,
      description: 'Makes a retried request safe: the same key (per calling system) gives the same ids, delivered once',
    }),
  ),
})

export async function messageRoutes(app: ServiceApp, opts: MessageRoutesOptions): Promise<void> {
  const { intake, inbox, inline, durability } = opts

  app.post(
    '/v1/messages',
    {
      onRequest: requireScope(Scope.MESSAGES_WRITE),
      schema: {
        tags: ['messages'],
        summary: 'Send a message to users, or to everyone',
        description:
          'A message for `to.userIds` (one message id per user) or for every user (`to.all`, one id). A small immediate request (few users, no `deliverAt`, no `Idempotency-Key`) is written at once and answered with status `done`; any other is queued and processed like an event: retried, delivered once, `deliverAt` delays it. The ids answered work with `GET /v1/messages/:id`; `requestId` with `GET /v1/events/:id`.',
        security: [{ [SERVICE_TOKEN]: [] }],
        headers: IdempotencyHeaders,
        body: SendMessageBody,
        response: {
          200: { ...SendMessageReply, description: 'Idempotency-Key seen before: the same ids' },
          202: { ...SendMessageReply, description: 'Accepted and queued' },
          400: ErrorResponse,
          401: ErrorResponse,
          403: ErrorResponse,
          503: ErrorResponse,
        },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request)
      const { deliverAt, ...data } = request.body
      const requestId = messageRequestId(caller, request.headers['idempotency-key'])
      const now = Date.now()
      const job: EventJob = {
        id: requestId,
        type: DIRECT_MESSAGE_TYPE,
        data,
        occurredAt: new Date(now).toISOString(),
        acceptedAt: now,
        source: caller,
      }
      const idempotencyKey = request.headers['idempotency-key']
      if (!deliverAt && !idempotencyKey && 'userIds' in data.to && data.to.userIds.length <= inline.maxRecipients) {
        // A fresh request id: nothing to deduplicate against, so no claim is needed before the write.
        const delivery = directMessage.handle(
          { id: requestId, type: DIRECT_MESSAGE_TYPE, data, occurredAt: job.occurredAt },
          inline.deliverer.context,
        )
        // The record goes out with the messages, in the same write to Redis: it can only be
        // looked up by this request id, which the caller learns from the 202 alone — sent once
        // both are written — so a record left by a failed delivery is never seen (and expires).
        const userIds = data.to.userIds
        const expected = userIds.map((userId) => inbox.messageIdFor(messageIdFor(requestId, userId), userId))
        const recorded = inline.records
          .recordDelivered(job, expected)
          .catch((err) => request.log.warn({ requestId, err: { message: (err as Error).message } }, 'record not kept'))
        const ids = await inline.deliverer.deliver(requestId, await delivery, now, caller)
        await Promise.all([recorded, durability.delivered(userIds)])
        return reply.status(202).send({ requestId, ids, status: 'done' })
      }
      const res = await intake.accept(job, deliverAt ? Date.parse(deliverAt) : undefined)
      if (res.created) await durability.accepted()
      const ids =
        'all' in data.to
          ? [broadcastMessageIdFor(requestId)]
          : data.to.userIds.map((userId) => inbox.messageIdFor(messageIdFor(requestId, userId), userId))
      return reply.status(res.created ? 202 : 200).send({ requestId, ids, status: res.status })
    },
  )

  app.get(
    '/v1/messages/:id',
    {
      onRequest: requireScope(Scope.MESSAGES_WRITE),
      schema: {
        tags: ['messages'],
        summary: 'Delivery receipt of a message',
        description:
          'When the message was written, first acked by a device (`deliveredAt`), by how many devices, and when it was read.',
        security: [{ [SERVICE_TOKEN]: [] }],
        params: MessageIdParams,
        response: {
          200: MessageReceipt,
          401: ErrorResponse,
          403: ErrorResponse,
          404: ErrorResponse,
          503: ErrorResponse,
        },
      },
    },
    async (request) => {
      const receipt = await inbox.receipt(request.params.id)
      // another system's message does not exist for this caller
      if (!receipt || receipt.source !== callerOf(request))
        throw new NotifierErrors.NotFound(`Message ${request.params.id}`)
      return receipt
    },
  )
}
