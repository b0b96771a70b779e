import createError from '@fastify/error'
import { ErrorCode } from '@herald/contracts'

/** Auth's coded errors; `code` is the stable value (docs/protocol.md) that clients branch on. */
export const AuthErrors = {
  InvalidPhone: createError(ErrorCode.INVALID_PHONE, 'Not a valid phone number', 400),
  CountryNotAllowed: createError(ErrorCode.COUNTRY_NOT_ALLOWED, 'Codes cannot be sent to this country', 400),
  InvalidCode: createError(ErrorCode.INVALID_CODE, 'Wrong or expired code', 401),
  TooManyAttempts: createError(ErrorCode.TOO_MANY_ATTEMPTS, 'Too many wrong codes, request a new code', 429),
  TooManyRequests: createError(ErrorCode.TOO_MANY_REQUESTS, 'Too many requests, retry in %s s', 429),
  SmsBudgetExceeded: createError(
    ErrorCode.SMS_BUDGET_EXCEEDED,
    'No more codes for this phone from this address today (SMS_DAILY_LIMIT_PER_PHONE)',
    429,
  ),
  SmsSpendExceeded: createError(
    ErrorCode.SMS_BUDGET_EXCEEDED,
    "Today's SMS budget is spent (SMS_DAILY_BUDGET); try again tomorrow",
    429,
  ),
  SmsCountrySpendExceeded: createError(
    ErrorCode.SMS_BUDGET_EXCEEDED,
    "Today's SMS budget for this country is spent (SMS_COUNTRY_DAILY_BUDGETS); try again tomorrow",
    429,
  ),
  SessionNotFound: createError(ErrorCode.NOT_FOUND, 'Session not found', 404),
  InvalidNickname: createError(ErrorCode.VALIDATION_ERROR, 'body/nickname must not be blank', 400),
}

/**
 * The SMS provider failed: 502 when it answered with an error, 503 when it could not be
 * reached in time. The code was not stored and the cooldown was released, so the user may retry.
 */
export class SmsSendError extends Error {
  readonly code = ErrorCode.SMS_SEND_FAILED
  constructor(
    message: string,
    readonly statusCode: 502 | 503,
  ) {
    super(message)
    this.name = 'SmsSendError'
  }
}
