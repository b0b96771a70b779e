import {
  ErrorResponse,
  EventAccepted,
  EventEnvelope,
  EventIdParams,
  type EventJob,
  EventView,
  Scope,
} from '@herald/contracts'
import type { ServiceApp } from '@herald/service-kit'
import { Counter } from 'prom-client'
import type { Catalog } from '../catalog'
import type { Durability } from '../domain/durability'
import { expiryOf } from '../domain/expiry'
import type { EventIntake } from '../domain/intake'
import { NotifierErrors } from '../errors'
import { SERVICE_TOKEN } from '../plugins/openapi'
import { callerOf, requireScope } from '../plugins/service-auth'

export interface EventRoutesOptions {
  catalog: Catalog
  intake: EventIntake
  durability: Durability
}

export async function eventRoutes(app: ServiceApp, opts: EventRoutesOptions): Promise<void> {
  const { catalog, intake, durability } = opts
  const accepted = new Counter({
    name: 'notifier_events_total',
    help: 'Events received by POST /v1/events, by type and outcome (accepted: 202, duplicate: 200)',
    labelNames: ['type', 'outcome'] as const,
    registers: [app.metrics],
  })
  const types = catalog.types
    .map((d) => `- \`${d.type}\` — ${d.description} (\`data\`: schema \`EventData.${d.type}\`)`)
    .join('\n')

  app.post(
    '/v1/events',
    {
      onRequest: requireScope(Scope.EVENTS_WRITE),
      schema: {
        tags: ['events'],
        summary: 'Send a business event',
        description: [
          'Accepts an event and queues it; the event catalog turns it into messages.',
          'The `id` is yours and makes the call idempotent: sending the same id again (for at least',
          '24 h) answers 200 with the current status and never delivers twice. `deliverAt` in the',
          'future delays it (at most DELIVER_AT_MAX_SECONDS, 30 days by default, ahead: further is',
          '400 DELIVER_AT_TOO_FAR). `ttl` (seconds once due) or `expiresAt` bounds the life of its',
          'messages, and an event not processed by then is not processed (status `expired`).',
          '`DELETE /v1/events/:id` cancels it until it starts. `data` is checked against the schema of `type`:',
          '',
          types,
        ].join('\n'),
        security: [{ [SERVICE_TOKEN]: [] }],
        body: {
          ...EventEnvelope,
          examples: catalog.types.map((d, i) => ({ id: `evt_${1001 + i}`, type: d.type, data: d.example })),
        },
        response: {
          200: { ...EventAccepted, description: 'This id was already accepted: its current status' },
          202: { ...EventAccepted, description: 'Accepted and queued (or delayed)' },
          400: {
            ...ErrorResponse,
            description:
              'VALIDATION_ERROR: the envelope or `data` is invalid (path named); DELIVER_AT_TOO_FAR: `deliverAt` is past the horizon (30 days by default); INVALID_EXPIRY: `ttl` with `expiresAt`, or an `expiresAt` not after now and `deliverAt`',
          },
          401: ErrorResponse,
          403: ErrorResponse,
          422: { ...ErrorResponse, description: 'UNKNOWN_EVENT_TYPE' },
          503: ErrorResponse,
        },
      },
    },
    async (request, reply) => {
      const env = request.body
      const def = catalog.public(env.type)
      if (!def) throw new NotifierErrors.UnknownEventType(env.type)
      const problem = catalog.check(def, env.data)
      if (problem) throw new NotifierErrors.InvalidData(problem)
      const now = Date.now()
      const deliverAt = env.deliverAt ? Date.parse(env.deliverAt) : undefined
      const expiresAt = expiryOf(env, Math.max(deliverAt ?? now, now))
      const job: EventJob = {
        id: env.id,
        type: env.type,
        data: env.data,
        occurredAt: env.occurredAt ?? new Date(now).toISOString(),
        acceptedAt: now,
        source: callerOf(request),
        ...(expiresAt !== undefined ? { expiresAt } : {}),
      }
      const res = await intake.accept(job, deliverAt)
      if (res.created) await durability.accepted()
      accepted.inc({ type: env.type, outcome: res.created ? 'accepted' : 'duplicate' })
      return reply.status(res.created ? 202 : 200).send({ id: env.id, status: res.status })
    },
  )

  app.get(
    '/v1/events/:id',
    {
      onRequest: requireScope(Scope.EVENTS_WRITE),
      schema: {
        tags: ['events'],
        summary: 'Status of an event',
        description:
          "Where the event is: queued, delayed, processing, done (with the ids of the messages it became), failed (with the error), canceled or expired. Kept for at least 24 h. Only events sent with your token's `sub`: ids are per calling system, another system's is 404.",
        security: [{ [SERVICE_TOKEN]: [] }],
        params: EventIdParams,
        response: { 200: EventView, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 503: ErrorResponse },
      },
    },
    async (request) => {
      // only the caller's own events: another system's id is 404, as if it did not exist
      const view = await intake.view({ source: callerOf(request), id: request.params.id })
      if (!view) throw new NotifierErrors.NotFound(`Event ${request.params.id}`)
      return view
    },
  )

  app.delete(
    '/v1/events/:id',
    {
      onRequest: requireScope(Scope.EVENTS_WRITE),
      schema: {
        tags: ['events'],
        summary: 'Cancel an event',
        description:
          "Cancels an event that has not started — queued, delayed (`deliverAt`), or waiting to be retried: it will not be processed, and its status is `canceled`. Calling it again answers the same. Once it started, 409 NOT_CANCELABLE: take back the messages it wrote with `DELETE /v1/messages/:id`. Also cancels a `POST /v1/messages` request by its `requestId`. Only events sent with your token's `sub`: another system's is 404.",
        security: [{ [SERVICE_TOKEN]: [] }],
        params: EventIdParams,
        response: {
          200: { ...EventAccepted, description: 'Canceled (now or before)' },
          401: ErrorResponse,
          403: ErrorResponse,
          404: ErrorResponse,
          409: { ...ErrorResponse, description: 'NOT_CANCELABLE: it is processing, done, failed or expired' },
          503: ErrorResponse,
        },
      },
    },
    async (request) => {
      const { id } = request.params
      const status = await intake.cancel({ source: callerOf(request), id })
      if (!status) throw new NotifierErrors.NotFound(`Event ${id}`)
      return { id, status }
    },
  )
}
