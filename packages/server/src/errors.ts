/**
 * What a failed call throws: `code` is herald's stable error code (docs/protocol.md), or one
 * of the client's own below when no answer came. Branch on `code`, never on `message`.
 */
export class HeraldError extends Error {
  override readonly name = 'HeraldError'

  constructor(
    /** herald's `code` (e.g. `INSUFFICIENT_SCOPE`), or `NETWORK_ERROR` / `TIMEOUT` / `INVALID_RESPONSE` */
    readonly code: string,
    message: string,
    /** the HTTP status; 0 when no answer came */
    readonly status: number,
    /** seconds the server asked to wait (`Retry-After`), when it said */
    readonly retryAfterSeconds?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/** The codes the client itself raises (herald's own are in docs/protocol.md). */
export const ClientErrorCode = {
  /** the request could not be sent or its answer was cut (DNS, refused, reset) */
  NETWORK_ERROR: 'NETWORK_ERROR',
  /** no answer within `timeoutMs` */
  TIMEOUT: 'TIMEOUT',
  /** an answer that is not herald's JSON */
  INVALID_RESPONSE: 'INVALID_RESPONSE',
} as const
