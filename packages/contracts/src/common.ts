import { type Static, Type } from 'typebox'

/** Opaque per-user cursor: a decimal string that only grows (microseconds since epoch, made unique by Redis). */
export const Cursor = Type.String({ pattern: '^[0-9]{1,20}$', maxLength: 20 })
export type Cursor = Static<typeof Cursor>

export const UserId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' })
/** A session (one signed-in device): the `id` of `/auth/sessions` and of the `welcome` frame. */
export const SessionId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' })
export type UserId = Static<typeof UserId>

export const MessageId = Type.String({ minLength: 1, maxLength: 80, pattern: '^[A-Za-z0-9_:.-]+$' })
export type MessageId = Static<typeof MessageId>

/** A JSON object of free-form application data attached to a message. */
export const JsonObject = Type.Record(Type.String({ maxLength: 128 }), Type.Unknown())
export type JsonObject = Static<typeof JsonObject>

/** `user` as every page sees it: the phone is masked (`+86138****5678`). */
export const User = Type.Object({
  id: UserId,
  nickname: Type.String(),
  phone: Type.String(),
})
export type User = Static<typeof User>

/** The longest `ttl` of a message or event, in seconds (30 days; the inbox's retention bounds it further). */
export const MAX_TTL_SECONDS = 30 * 24 * 3600

/**
 * When a message stops being shown, on `POST /v1/messages` and `POST /v1/events`: `ttl` seconds
 * after it is due (now, or `deliverAt`), or at `expiresAt` — one of them. Past it the message
 * is not delivered nor replayed, and it leaves the inbox.
 */
export const ExpiryFields = {
  ttl: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: MAX_TTL_SECONDS,
      description:
        'Seconds the message lives once due (now, or `deliverAt`): past it, it is not delivered nor replayed and it leaves the inbox. Not with `expiresAt`.',
    }),
  ),
  expiresAt: Type.Optional(
    Type.String({
      format: 'date-time',
      description:
        'When the message stops being shown (after now and `deliverAt`): past it, it is not delivered nor replayed and it leaves the inbox. Not with `ttl`.',
    }),
  ),
}
