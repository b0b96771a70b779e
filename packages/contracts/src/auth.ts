import { type Static, Type } from 'typebox'
import { User } from './common'

export const Phone = Type.String({ minLength: 3, maxLength: 32 })

export const SendCodeBody = Type.Object({ phone: Phone }, { additionalProperties: false })
export type SendCodeBody = Static<typeof SendCodeBody>

export const SendCodeReply = Type.Object({
  expiresIn: Type.Integer({ description: 'seconds the code stays valid' }),
  resendIn: Type.Integer({ description: 'seconds before another code may be sent' }),
})
export type SendCodeReply = Static<typeof SendCodeReply>

export const LoginBody = Type.Object(
  {
    phone: Phone,
    code: Type.String({ pattern: '^[0-9]{6}$' }),
    device: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
)
export type LoginBody = Static<typeof LoginBody>

export const PatchMeBody = Type.Object(
  { nickname: Type.String({ minLength: 1, maxLength: 32, pattern: '^[^\\u0000-\\u001f]+$' }) },
  { additionalProperties: false },
)
export type PatchMeBody = Static<typeof PatchMeBody>

export const SessionView = Type.Object({
  id: Type.String(),
  device: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  lastSeenAt: Type.String({ format: 'date-time' }),
  current: Type.Boolean(),
})
export type SessionView = Static<typeof SessionView>

export const SessionIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) })

export const WsTicketReply = Type.Object({ ticket: Type.String(), expiresIn: Type.Integer() })
export type WsTicketReply = Static<typeof WsTicketReply>

/** Claims of a WebSocket ticket (a JWT signed with TICKET_SECRET). */
export interface TicketClaims {
  sub: string // user id
  sid: string // session id
  jti: string
  aud: string
}
export const TICKET_AUDIENCE = 'herald:ws'
/** The dev default of TICKET_SECRET shared by auth (signs) and gateways (verify); production refuses it. */
export const DEV_TICKET_SECRET = 'dev-ticket-secret-change-me'
export const TICKET_TTL_SECONDS = 60

/** The fields of a session hash in Redis. Every value is a string; no secret is stored. */
export interface SessionRecord {
  id: string
  userId: string
  nickname: string
  phone: string // masked
  device: string
  createdAt: string // epoch ms
  lastSeenAt: string // epoch ms
  expiresAt: string // epoch ms: the absolute cap
}

/** `POST /auth/login` reply: the token exists only here and on the client. */
export const LoginReply = Type.Object({
  token: Type.String(),
  expiresIn: Type.Integer({ description: 'seconds the session lives without use' }),
  user: User,
})
export type LoginReply = Static<typeof LoginReply>

/** `GET /auth/dev/sms/:phone` reply (dev SMS provider only). */
export const DevSmsReply = Type.Object({ code: Type.String() })
export type DevSmsReply = Static<typeof DevSmsReply>
