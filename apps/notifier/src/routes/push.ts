import {
  ErrorResponse,
  PushKeyReply,
  PushSubscriptionBody,
  PushSubscriptionReply,
  PushUnsubscribeBody,
} from '@herald/contracts'
import { type PushSubscriptions, subscriptionId, subscriptionProblem } from '@herald/push'
import { requireSession, type ServiceApp } from '@herald/service-kit'
import type { TargetPolicy } from '@herald/webhooks'
import { Type } from 'typebox'
import { NotifierErrors } from '../errors'
import { SESSION_TOKEN } from '../plugins/openapi'

export interface PushRoutesOptions {
  subscriptions: PushSubscriptions
  /** the VAPID public key; null when Web Push is off (no keys configured): every route answers 404 */
  publicKey: string | null
  policy: TargetPolicy
  maxSubscriptions: number
}

/**
 * The signed-in user's Web Push subscriptions (one per browser): the worker pushes a message
 * to them when the user has no live connection. Off unless VAPID keys are configured.
 */
export async function pushRoutes(app: ServiceApp, opts: PushRoutesOptions): Promise<void> {
  const { subscriptions, publicKey, policy, maxSubscriptions } = opts
  const security = [{ [SESSION_TOKEN]: [] }]
  const enabled = async () => {
    if (publicKey === null) throw new NotifierErrors.NotFound('Web Push (no VAPID keys configured)')
  }

  app.get(
    '/inbox/push-subscriptions/key',
    {
      preHandler: [requireSession, enabled],
      schema: {
        tags: ['inbox'],
        summary: 'The VAPID public key',
        description:
          'Pass it as `applicationServerKey` to `PushManager.subscribe()`. 404 when this deployment has Web Push off.',
        security,
        response: { 200: PushKeyReply, 401: ErrorResponse, 404: ErrorResponse },
      },
    },
    async () => ({ publicKey: publicKey as string }),
  )

  app.post(
    '/inbox/push-subscriptions',
    {
      preHandler: [requireSession, enabled],
      schema: {
        tags: ['inbox'],
        summary: "Register this browser's push subscription",
        description: `The body is \`PushSubscription.toJSON()\`. The endpoint must be https; the keys a P-256 public key and a 16-byte secret. At most ${maxSubscriptions} per user (400 past it); registering an endpoint again replaces its keys.`,
        security,
        body: PushSubscriptionBody,
        response: {
          201: PushSubscriptionReply,
          400: ErrorResponse,
          401: ErrorResponse,
          404: ErrorResponse,
          503: ErrorResponse,
        },
      },
    },
    async (request, reply) => {
      const { endpoint, keys } = request.body
      const problem = subscriptionProblem(policy, { endpoint, keys })
      if (problem) throw new NotifierErrors.InvalidData(`push subscription: ${problem}`)
      const sub = { endpoint, keys: { p256dh: keys.p256dh, auth: keys.auth } }
      const outcome = await subscriptions.add(request.session!.userId, sub)
      if (outcome === 'full') {
        throw new NotifierErrors.InvalidData(`this user already has ${maxSubscriptions} push subscriptions`)
      }
      reply.code(201)
      return { id: subscriptionId(endpoint), replaced: outcome === 'replaced' }
    },
  )

  app.delete(
    '/inbox/push-subscriptions',
    {
      preHandler: [requireSession, enabled],
      schema: {
        tags: ['inbox'],
        summary: "Remove this browser's push subscription",
        description: 'After `PushSubscription.unsubscribe()`, or at sign-out. 204 whether or not it was registered.',
        security,
        body: PushUnsubscribeBody,
        response: { 204: Type.Null(), 400: ErrorResponse, 401: ErrorResponse, 404: ErrorResponse, 503: ErrorResponse },
      },
    },
    async (request, reply) => {
      await subscriptions.remove(request.session!.userId, request.body.endpoint)
      return reply.status(204).send(null)
    },
  )
}
