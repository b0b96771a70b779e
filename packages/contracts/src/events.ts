import { createHash } from 'node:crypto'
import { type Static, Type } from 'typebox'
import { ExpiryFields, JsonObject, UserId } from './common'

/** The BullMQ queue that turns business events into messages (producer: notifier API, auth; consumer: notifier worker). */
export const EVENTS_QUEUE = 'events'

/**
 * BullMQ job id of an event, the same for every producer: per calling system (`source`), so
 * two systems' events with one id are two jobs. Hashed: job ids may not contain `:`, event
 * ids and sources may.
 */
export function jobIdFor(source: string, eventId: string): string {
  return `ev_${createHash('sha256').update(`${source}\0${eventId}`).digest('base64url').slice(0, 32)}`
}

export const EventId = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:-]+$' })
export const EventType = Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z][a-z0-9_.-]*$' })

/** `POST /v1/events` body. `data` is checked against the type's schema from the event catalog. */
export const EventEnvelope = Type.Object(
  {
    id: EventId,
    type: EventType,
    data: JsonObject,
    occurredAt: Type.Optional(Type.String({ format: 'date-time' })),
    deliverAt: Type.Optional(Type.String({ format: 'date-time' })),
    ...ExpiryFields,
  },
  { additionalProperties: false },
)
export type EventEnvelope = Static<typeof EventEnvelope>

/** The payload of a job on EVENTS_QUEUE. */
export interface EventJob {
  id: string
  type: string
  data: Record<string, unknown>
  occurredAt: string
  acceptedAt: number // epoch ms, for latency measurement
  source: string // `sub` of the calling system, or the service that enqueued it
  /** epoch ms: the messages it becomes expire then; past it the event is not processed */
  expiresAt?: number
}

// ---- built-in event types
export const OrderShippedData = Type.Object(
  {
    userId: UserId,
    orderId: Type.String({ minLength: 1, maxLength: 128 }),
    carrier: Type.Optional(Type.String({ maxLength: 64 })),
    trackingNumber: Type.Optional(Type.String({ maxLength: 128 })),
  },
  { additionalProperties: false },
)
export type OrderShippedData = Static<typeof OrderShippedData>

export const ChatMessageData = Type.Object(
  {
    fromUserId: UserId,
    toUserId: UserId,
    text: Type.String({ minLength: 1, maxLength: 4000 }),
  },
  { additionalProperties: false },
)
export type ChatMessageData = Static<typeof ChatMessageData>

export const AccountLoginData = Type.Object(
  {
    userId: UserId,
    device: Type.String({ maxLength: 64 }),
    ip: Type.String({ maxLength: 64 }),
  },
  { additionalProperties: false },
)
export type AccountLoginData = Static<typeof AccountLoginData>

export const AnnouncementData = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 200 }),
    body: Type.String({ maxLength: 4000 }),
  },
  { additionalProperties: false },
)
export type AnnouncementData = Static<typeof AnnouncementData>
