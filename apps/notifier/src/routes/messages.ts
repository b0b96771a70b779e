import {
  ErrorResponse,
  type EventJob,
  MessageCanceled,
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
import { expiryOf } from '../domain/expiry'
import { broadcastMessageIdFor, messageIdFor, messageRequestId } from '../domain/ids'
import type { EventIntake } from '../domain/intake'
import { NotifierErrors } from '../errors'
import { SERVICE_TOKEN } from '../plugins/openapi'
import { callerOf, requireScope } from '../plugins/service-auth'
import { RETRACT_JOB_TYPE } from '../queue'

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
          'A message for `to.userIds` (one message id per user) or for every user (`to.all`, one id). A small immediate request (few users, no `deliverAt`, no `Idempotency-Key`) is written at once and answered with status `done`; any other is queued and processed like an event: retried, delivered once, `deliverAt` delays it. A message to everyone due now is sent from the request once queued (status `queued`: its job then sends the Web Push). `ttl` or `expiresAt` ends its life: past it, it is not delivered nor replayed and it leaves the inbox. The ids answered work with `GET /v1/messages/:id` and `DELETE /v1/messages/:id`; `requestId` with `GET` and `DELETE /v1/events/:id` (scope `events:write`).',
        security: [{ [SERVICE_TOKEN]: [] }],
        headers: IdempotencyHeaders,
        body: SendMessageBody,
        response: {
          200: { ...SendMessageReply, description: 'Idempotency-Key seen before: the same ids' },
          202: { ...SendMessageReply, description: 'Accepted and queued' },
          400: {
            ...ErrorResponse,
            description:
              'VALIDATION_ERROR; DELIVER_AT_TOO_FAR: `deliverAt` past the horizon; INVALID_EXPIRY: `ttl` with `expiresAt`, or an `expiresAt` not after now and `deliverAt`',
          },
          401: ErrorResponse,
          403: ErrorResponse,
          503: ErrorResponse,
        },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request)
      const { deliverAt, ttl, expiresAt: expiresAtIso, ...data } = request.body
      const idempotencyKey = request.headers['idempotency-key']
      const requestId = messageRequestId(caller, idempotencyKey)
      const now = Date.now()
      const due = deliverAt ? Date.parse(deliverAt) : now
      const expiresAt = expiryOf({ ttl, expiresAt: expiresAtIso }, Math.max(due, now))
      const job: EventJob = {
        id: requestId,
        type: DIRECT_MESSAGE_TYPE,
        data,
        occurredAt: new Date(now).toISOString(),
        acceptedAt: now,
        source: caller,
        ...(expiresAt !== undefined ? { expiresAt } : {}),
      }
      const ids =
        'all' in data.to
          ? [broadcastMessageIdFor(requestId)]
          : data.to.userIds.map((userId) => inbox.messageIdFor(messageIdFor(requestId, userId), userId))
      if (!deliverAt && !idempotencyKey && 'userIds' in data.to && data.to.userIds.length <= inline.maxRecipients) {
        // A fresh request id: nothing to deduplicate against, so no claim is needed before the write.
        const delivery = directMessage.handle(
          { id: requestId, type: DIRECT_MESSAGE_TYPE, data, occurredAt: job.occurredAt },
          inline.deliverer.context,
        )
        // The record goes out with the messages, in the same write to Redis: it can only be
        // looked up by this request id, which the caller learns from the 202 alone — sent once
        // both are written — so a record left by a failed delivery is never seen (and expires).
        const recorded = inline.records
          .recordDelivered(job, ids)
          .catch((err) => request.log.warn({ requestId, err: { message: (err as Error).message } }, 'record not kept'))
        await inline.deliverer.deliver(requestId, await delivery, {
          now,
          source: caller,
          ids,
          ...(expiresAt !== undefined ? { expiresAt } : {}),
        })
        await Promise.all([recorded, durability.delivered(data.to.userIds)])
        return reply.status(202).send({ requestId, ids, status: 'done' })
      }
      const sendsNow = !(deliverAt && due > now)
      // A message to everyone due now is sent from here, not after the queue's hop, once its job
      // is durable and its record started (no cancel can say it was not sent). The job sends
      // nothing again and walks the Web Push; if this send fails, the job sends it.
      const announce = async () => {
        const delivery = await directMessage.handle(
          { id: requestId, type: DIRECT_MESSAGE_TYPE, data, occurredAt: job.occurredAt },
          inline.deliverer.context,
        )
        await inline.deliverer
          .announce(requestId, delivery, { now, source: caller, ...(expiresAt !== undefined ? { expiresAt } : {}) })
          .catch((err) => request.log.warn({ requestId, err: { message: (err as Error).message } }, 'left to the job'))
      }
      if (!deliverAt && !idempotencyKey && 'all' in data.to) {
        // A fresh request id: its record and job go out together, already started (no claim).
        const { recorded } = await intake.acceptStarted(job)
        if (!recorded) request.log.warn({ requestId }, 'record left to the job')
        await announce()
        await durability.accepted()
        return reply.status(202).send({ requestId, ids, status: 'queued' })
      }
      if (deliverAt && intake.delayOf(job, due) > 0) {
        // scheduled: each message's receipt names its user and this request before anything is
        // written, so DELETE /v1/messages/:id can cancel it (written again by a retry: kept)
        const userIds = 'all' in data.to ? ['*'] : data.to.userIds
        await inbox.schedule(
          userIds.map((userId, i) => ({ userId, messageId: ids[i] as string })),
          { source: caller, requestId, dueAt: due },
          now,
        )
      }
      const res = await intake.accept(job, deliverAt ? due : undefined)
      // with an Idempotency-Key, a message to everyone is started once claimed and queued: a
      // cancel of its known id may have come first
      if (res.created && 'all' in data.to && sendsNow) {
        if ((await inline.records.start(job)).status === 'processing') await announce()
      }
      if (res.created) await durability.accepted()
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
          'Its `status`; when the message was written, first acked by a device (`deliveredAt`), by how many devices, and when it was read; when it expires, or was taken back. A scheduled message (`deliverAt`) is found from acceptance on.',
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

  app.delete(
    '/v1/messages/:id',
    {
      onRequest: requireScope(Scope.MESSAGES_WRITE),
      schema: {
        tags: ['messages'],
        summary: 'Take a message back',
        description: [
          'Cancels a message not written yet — one scheduled with `deliverAt` — so it never is; or retracts a written one:',
          "it is removed from the user's inbox and every open client of the user gets a `retract` frame (a message to",
          'everyone: no inbox gets it from now on, and it is removed from every inbox in the background). Calling it again',
          'answers the same. A message of a queued request (not scheduled) is found once it is written, a few ms later.',
          "Only messages sent with your token's `sub`: another system's is 404.",
        ].join(' '),
        security: [{ [SERVICE_TOKEN]: [] }],
        params: MessageIdParams,
        response: {
          200: MessageCanceled,
          401: ErrorResponse,
          403: ErrorResponse,
          404: ErrorResponse,
          503: ErrorResponse,
        },
      },
    },
    async (request) => {
      const { id } = request.params
      const caller = callerOf(request)
      const receipt = await inbox.receipt(id)
      if (!receipt || receipt.source !== caller) throw new NotifierErrors.NotFound(`Message ${id}`)
      if (receipt.userId !== '*') return { id, status: await inbox.retract(receipt.userId, id) }
      if (receipt.status === 'canceled') return { id, status: 'canceled' as const }
      // a scheduled message to everyone: cancel its request unless it started
      if (receipt.status === 'scheduled' && receipt.requestId) {
        const canceled = await intake.cancel({ source: caller, id: receipt.requestId }).catch((err) => {
          if (err instanceof NotifierErrors.NotCancelable) return null
          throw err
        })
        if (canceled) {
          await inbox.markTakenBack(id, 'canceled')
          return { id, status: 'canceled' as const }
        }
      }
      // written, or being written: no partition writes it from now on; the job removes the copies
      await inbox.markTakenBack(id, 'retracted')
      const now = Date.now()
      await intake.enqueueInternal({
        id: `retract:${id}`,
        type: RETRACT_JOB_TYPE,
        data: { messageId: id },
        occurredAt: new Date(now).toISOString(),
        acceptedAt: now,
        source: caller,
      })
      return { id, status: 'retracted' as const }
    },
  )
}
