import { type Static, type TSchema, Type } from 'typebox'
import { MessageId, UserId } from './common'

/**
 * Webhooks to the calling systems (`/v1/webhooks`, scope `webhooks:write`): the events a
 * system may subscribe to, the endpoint it registers, and the delivery log it can read.
 * Deliveries follow Standard Webhooks (https://www.standardwebhooks.com): headers
 * `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`.
 */

/** Every webhook event type. */
export const WebhookEventType = {
  /** a message of the caller was acked by a first device of its user */
  MESSAGE_DELIVERED: 'message.delivered',
  /** a message of the caller was read */
  MESSAGE_READ: 'message.read',
  /** an event (or queued message request) of the caller failed for good */
  EVENT_FAILED: 'event.failed',
  /** a user opened a first socket */
  USER_ONLINE: 'user.online',
  /** a user has had no socket for WEBHOOK_OFFLINE_DELAY_MS */
  USER_OFFLINE: 'user.offline',
} as const
export type WebhookEventType = (typeof WebhookEventType)[keyof typeof WebhookEventType]
export const WEBHOOK_EVENT_TYPES = Object.values(WebhookEventType)

/** Longest endpoint URL accepted. */
export const WEBHOOK_URL_MAX = 2048
/** Most delivery attempts one `GET /v1/webhooks/:id/deliveries` answers. */
export const WEBHOOK_DELIVERIES_PAGE_MAX = 100

export const WebhookId = Type.String({ minLength: 1, maxLength: 40, pattern: '^wh_[A-Za-z0-9_-]+$' })

export const CreateWebhookBody = Type.Object(
  {
    url: Type.String({
      minLength: 1,
      maxLength: WEBHOOK_URL_MAX,
      description: 'https URL (http and private addresses only where the deployment allows them)',
    }),
    events: Type.Array(
      Type.Union([
        Type.Literal(WebhookEventType.MESSAGE_DELIVERED),
        Type.Literal(WebhookEventType.MESSAGE_READ),
        Type.Literal(WebhookEventType.EVENT_FAILED),
        Type.Literal(WebhookEventType.USER_ONLINE),
        Type.Literal(WebhookEventType.USER_OFFLINE),
      ]),
      {
        minItems: 1,
        maxItems: WEBHOOK_EVENT_TYPES.length,
        uniqueItems: true,
      },
    ),
    description: Type.Optional(Type.String({ maxLength: 200 })),
  },
  {
    additionalProperties: false,
    examples: [{ url: 'https://billing.example.com/herald-hooks', events: ['message.delivered', 'event.failed'] }],
  },
)
export type CreateWebhookBody = Static<typeof CreateWebhookBody>

export const WebhookView = Type.Object({
  id: WebhookId,
  url: Type.String(),
  events: Type.Array(Type.String()),
  description: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  status: Type.Union([Type.Literal('enabled'), Type.Literal('disabled')], {
    description: 'disabled after WEBHOOK_DISABLE_AFTER_FAILURES failed attempts in a row',
  }),
  failureStreak: Type.Integer({ description: 'failed attempts since the last success' }),
  disabledAt: Type.Optional(Type.String({ format: 'date-time' })),
})
export type WebhookView = Static<typeof WebhookView>

/** The answer of `POST /v1/webhooks`: the only time the signing secret is shown. */
export const CreatedWebhook = Type.Object({
  ...WebhookView.properties,
  secret: Type.String({ description: '`whsec_<base64>`: shown once; verify each delivery with it' }),
})
export type CreatedWebhook = Static<typeof CreatedWebhook>

export const WebhookList = Type.Object({ items: Type.Array(WebhookView) })
export type WebhookList = Static<typeof WebhookList>

export const WebhookIdParams = Type.Object({ id: WebhookId })

export const WebhookDeliveriesQuery = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: WEBHOOK_DELIVERIES_PAGE_MAX, default: 50 })) },
  { additionalProperties: false },
)

export const WebhookDelivery = Type.Object({
  messageId: Type.String({ description: 'the `webhook-id` header: the same on every retry of one event' }),
  type: Type.String(),
  attempt: Type.Integer(),
  at: Type.String({ format: 'date-time' }),
  ok: Type.Boolean(),
  status: Type.Optional(Type.Integer({ description: 'HTTP status answered, when there was one' })),
  error: Type.Optional(Type.String({ description: 'why no 2xx was received' })),
  durationMs: Type.Integer(),
})
export type WebhookDelivery = Static<typeof WebhookDelivery>

export const WebhookDeliveries = Type.Object({ items: Type.Array(WebhookDelivery, { description: 'newest first' }) })
export type WebhookDeliveries = Static<typeof WebhookDeliveries>

const At = (description: string) => Type.String({ format: 'date-time', description })

/** The `data` of each webhook event type. */
export const WebhookData = {
  [WebhookEventType.MESSAGE_DELIVERED]: Type.Object({
    messageId: MessageId,
    userId: UserId,
    deliveredAt: At('the first ack by a device of the user'),
  }),
  [WebhookEventType.MESSAGE_READ]: Type.Object({
    messageId: MessageId,
    userId: UserId,
    readAt: At('the first read'),
  }),
  [WebhookEventType.EVENT_FAILED]: Type.Object({
    eventId: Type.String({ description: 'your event id, or the requestId of a POST /v1/messages request' }),
    type: Type.String({ description: 'the event type' }),
    error: Type.String({ description: 'why the last attempt failed' }),
    attempts: Type.Integer(),
    failedAt: At('when it failed for good'),
  }),
  [WebhookEventType.USER_ONLINE]: Type.Object({ userId: UserId, at: At('when its first socket opened') }),
  [WebhookEventType.USER_OFFLINE]: Type.Object({
    userId: UserId,
    at: At('when its last socket closed (sent WEBHOOK_OFFLINE_DELAY_MS later, if it stayed offline)'),
  }),
} as const satisfies Record<WebhookEventType, TSchema>
export type WebhookData<T extends WebhookEventType> = Static<(typeof WebhookData)[T]>

/** The body of every delivery: `{type, timestamp, data}` (Standard Webhooks' envelope). */
export interface WebhookPayload<T extends WebhookEventType = WebhookEventType> {
  type: T
  timestamp: string
  data: WebhookData<T>
}

/** The JSON Schema of the body of one event type's deliveries. */
export function webhookPayloadSchema(type: WebhookEventType) {
  return Type.Object({
    type: Type.Literal(type),
    timestamp: Type.String({ format: 'date-time', description: 'when it was sent' }),
    data: WebhookData[type],
  })
}

/** BullMQ queue of webhook deliveries (one job per endpoint and event). */
export const WEBHOOKS_QUEUE = 'webhooks'

/** A delivery job: the body is built once, when the event happens, and signed per attempt. */
export interface WebhookJob {
  endpointId: string
  /** `webhook-id`: unique per event and endpoint, the same on retries */
  messageId: string
  type: WebhookEventType
  /** the JSON body (a WebhookPayload) */
  body: string
  /** user.offline: sent only if the user is still offline since `since` (epoch ms) when the job runs */
  settle?: { userId: string; since: number }
}
