import {
  CreatedWebhook,
  CreateWebhookBody,
  ErrorResponse,
  Scope,
  WebhookDeliveries,
  WebhookDeliveriesQuery,
  WebhookIdParams,
  WebhookList,
  WebhookView,
} from '@herald/contracts'
import type { ServiceApp } from '@herald/service-kit'
import { resolvedUrlProblem, type TargetPolicy, type WebhookRegistry } from '@herald/webhooks'
import { Type } from 'typebox'
import { NotifierErrors } from '../errors'
import { SERVICE_TOKEN } from '../plugins/openapi'
import { callerOf, requireScope } from '../plugins/service-auth'

export interface WebhookRoutesOptions {
  registry: WebhookRegistry
  policy: TargetPolicy
  maxEndpoints: number
}

const security = [{ [SERVICE_TOKEN]: [] }]
const denied = { 401: ErrorResponse, 403: ErrorResponse, 503: ErrorResponse }

/** `/v1/webhooks`: a calling system's endpoints, each seen and changed only by that system. */
export async function webhookRoutes(app: ServiceApp, opts: WebhookRoutesOptions): Promise<void> {
  const { registry, policy, maxEndpoints } = opts
  const onRequest = requireScope(Scope.WEBHOOKS_WRITE)

  app.post(
    '/v1/webhooks',
    {
      onRequest,
      schema: {
        tags: ['webhooks'],
        summary: 'Register a webhook endpoint',
        description:
          'Signed POSTs (Standard Webhooks) for the chosen events about this system’s messages and events, and for user presence. The answer holds the signing `secret`, shown this once.',
        security,
        body: CreateWebhookBody,
        response: { 201: CreatedWebhook, 400: ErrorResponse, ...denied },
      },
    },
    async (request, reply) => {
      const problem = await resolvedUrlProblem(policy, request.body.url)
      if (problem) throw new NotifierErrors.InvalidWebhookUrl(problem)
      const created = await registry.create(callerOf(request), request.body, maxEndpoints)
      if (!created) throw new NotifierErrors.TooManyWebhooks(maxEndpoints)
      return reply.status(201).send(created)
    },
  )

  app.get(
    '/v1/webhooks',
    {
      onRequest,
      schema: {
        tags: ['webhooks'],
        summary: 'This system’s webhook endpoints',
        security,
        response: { 200: WebhookList, ...denied },
      },
    },
    async (request) => ({ items: await registry.list(callerOf(request)) }),
  )

  app.get(
    '/v1/webhooks/:id',
    {
      onRequest,
      schema: {
        tags: ['webhooks'],
        summary: 'One webhook endpoint',
        security,
        params: WebhookIdParams,
        response: { 200: WebhookView, 400: ErrorResponse, 404: ErrorResponse, ...denied },
      },
    },
    async (request) => {
      const view = await registry.get(callerOf(request), request.params.id)
      if (!view) throw new NotifierErrors.NotFound('Webhook')
      return view
    },
  )

  app.delete(
    '/v1/webhooks/:id',
    {
      onRequest,
      schema: {
        tags: ['webhooks'],
        summary: 'Remove a webhook endpoint',
        description: 'Its pending deliveries are dropped and its delivery log removed.',
        security,
        params: WebhookIdParams,
        response: { 204: Type.Null(), 400: ErrorResponse, 404: ErrorResponse, ...denied },
      },
    },
    async (request, reply) => {
      if (!(await registry.delete(callerOf(request), request.params.id))) throw new NotifierErrors.NotFound('Webhook')
      return reply.status(204).send(null)
    },
  )

  app.post(
    '/v1/webhooks/:id/enable',
    {
      onRequest,
      schema: {
        tags: ['webhooks'],
        summary: 'Enable an endpoint again',
        description:
          'After a failure streak disabled it (once its receiver is fixed): deliveries resume with the next event, the streak starts over. Deliveries dropped while it was disabled are not sent again.',
        security,
        params: WebhookIdParams,
        response: { 200: WebhookView, 400: ErrorResponse, 404: ErrorResponse, ...denied },
      },
    },
    async (request) => {
      const view = await registry.enable(callerOf(request), request.params.id)
      if (!view) throw new NotifierErrors.NotFound('Webhook')
      return view
    },
  )

  app.get(
    '/v1/webhooks/:id/deliveries',
    {
      onRequest,
      schema: {
        tags: ['webhooks'],
        summary: 'The latest delivery attempts to an endpoint',
        description: 'Newest first; each attempt with its HTTP status or error. Kept: the last `WEBHOOK_LOG_MAX`.',
        security,
        params: WebhookIdParams,
        querystring: WebhookDeliveriesQuery,
        response: { 200: WebhookDeliveries, 400: ErrorResponse, 404: ErrorResponse, ...denied },
      },
    },
    async (request) => {
      const items = await registry.deliveries(callerOf(request), request.params.id, request.query.limit ?? 50)
      if (!items) throw new NotifierErrors.NotFound('Webhook')
      return { items }
    },
  )
}
