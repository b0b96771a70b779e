/**
 * When to try a call again, and after how long.
 * - 429 and 503 mean herald did not take the request (rate limit, Redis away, replica
 *   draining): always retried, after `Retry-After` when the answer says, else a backoff.
 * - A network error or a timeout may come after herald took the request: retried only when
 *   repeating it is harmless (reads, events — their id is the idempotency key — and messages
 *   sent with an idempotency key).
 */

export interface RetryOptions {
  /** attempts after the first @default 4 */
  retries: number
  /** first backoff step @default 200 */
  minDelayMs: number
  /** longest wait between attempts, `Retry-After` included @default 30_000 */
  maxDelayMs: number
}

export const DEFAULT_RETRY: RetryOptions = { retries: 4, minDelayMs: 200, maxDelayMs: 30_000 }

/** Full-jitter exponential backoff: a random delay in [0, min(max, min·2^attempt)). */
export function backoff(attempt: number, opts: RetryOptions, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(opts.maxDelayMs, opts.minDelayMs * 2 ** attempt))
}

/** `Retry-After` as seconds (a number of seconds or an HTTP date), or undefined. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined
  if (/^\d+$/.test(value.trim())) return Number(value.trim())
  const at = Date.parse(value)
  if (Number.isNaN(at)) return undefined
  return Math.max(0, Math.ceil((at - now) / 1000))
}

/** The wait before the next attempt: what the server asked for (capped), else the backoff. */
export function delayFor(attempt: number, retryAfterSeconds: number | undefined, opts: RetryOptions): number {
  if (retryAfterSeconds !== undefined) return Math.min(opts.maxDelayMs, retryAfterSeconds * 1000)
  return backoff(attempt, opts)
}
