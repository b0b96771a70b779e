import createError from '@fastify/error'
import { ErrorCode } from '@herald/contracts'

/** The notifier's coded errors (stable `code` values: docs/protocol.md). */
export const NotifierErrors = {
  Unauthorized: createError(ErrorCode.UNAUTHORIZED, 'Missing, invalid or expired service token', 401),
  InsufficientScope: createError(ErrorCode.INSUFFICIENT_SCOPE, 'This token lacks the scope "%s"', 403),
  UnknownEventType: createError(ErrorCode.UNKNOWN_EVENT_TYPE, 'Unknown event type "%s"', 422),
  InvalidData: createError(ErrorCode.VALIDATION_ERROR, '%s', 400),
  NotFound: createError(ErrorCode.NOT_FOUND, '%s not found', 404),
  DeliverAtTooFar: createError(
    ErrorCode.DELIVER_AT_TOO_FAR,
    'deliverAt may be at most %s ahead (DELIVER_AT_MAX_SECONDS = %d)',
    400,
  ),
  InvalidWebhookUrl: createError(ErrorCode.INVALID_WEBHOOK_URL, 'The webhook url %s', 400),
  KindNotMutable: createError(ErrorCode.KIND_NOT_MUTABLE, 'These kinds cannot be muted: %s', 400),
  InvalidExpiry: createError(ErrorCode.INVALID_EXPIRY, '%s', 400),
  NotCancelable: createError(
    ErrorCode.NOT_CANCELABLE,
    'Event %s is %s: only a queued or delayed event can be canceled (take its messages back with DELETE /v1/messages/:id)',
    409,
  ),
  TooManyWebhooks: createError(
    ErrorCode.TOO_MANY_WEBHOOKS,
    'This caller already has %d webhook endpoints (WEBHOOK_MAX_ENDPOINTS)',
    400,
  ),
}
