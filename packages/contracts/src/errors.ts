import { type Static, Type } from 'typebox'

/** Fastify's error shape; `code` is one of the stable values below. */
export const ErrorResponse = Type.Object({
  statusCode: Type.Integer(),
  code: Type.String(),
  error: Type.String(),
  message: Type.String(),
})
export type ErrorResponse = Static<typeof ErrorResponse>

/** Every `code` a client may see. Stable: clients branch on them. */
export const ErrorCode = {
  VALIDATION_ERROR: 'VALIDATION_ERROR',
  INVALID_JSON: 'INVALID_JSON',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  NOT_FOUND: 'NOT_FOUND',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  TOO_MANY_REQUESTS: 'TOO_MANY_REQUESTS',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  INTERNAL_ERROR: 'INTERNAL_ERROR',
  // auth
  INVALID_PHONE: 'INVALID_PHONE',
  INVALID_CODE: 'INVALID_CODE',
  TOO_MANY_ATTEMPTS: 'TOO_MANY_ATTEMPTS',
  COUNTRY_NOT_ALLOWED: 'COUNTRY_NOT_ALLOWED',
  SMS_BUDGET_EXCEEDED: 'SMS_BUDGET_EXCEEDED',
  SMS_SEND_FAILED: 'SMS_SEND_FAILED',
  // notifier
  UNKNOWN_EVENT_TYPE: 'UNKNOWN_EVENT_TYPE',
  INSUFFICIENT_SCOPE: 'INSUFFICIENT_SCOPE',
  /** `deliverAt` is further ahead than DELIVER_AT_MAX_SECONDS allows (400) */
  DELIVER_AT_TOO_FAR: 'DELIVER_AT_TOO_FAR',
  /** a webhook URL that is malformed, not https, or targets a refused address (400) */
  INVALID_WEBHOOK_URL: 'INVALID_WEBHOOK_URL',
  /** the caller already has WEBHOOK_MAX_ENDPOINTS endpoints (400) */
  TOO_MANY_WEBHOOKS: 'TOO_MANY_WEBHOOKS',
  /** a preference that mutes a kind nobody may mute (security notices such as account.login) (400) */
  KIND_NOT_MUTABLE: 'KIND_NOT_MUTABLE',
  /** `ttl` and `expiresAt` together, or an expiry not after now and `deliverAt` (400) */
  INVALID_EXPIRY: 'INVALID_EXPIRY',
  /** `DELETE /v1/events/:id` of an event already processing or processed (409) */
  NOT_CANCELABLE: 'NOT_CANCELABLE',
} as const
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]
