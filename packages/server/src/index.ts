export * from './client'
export * from './errors'
export { backoff, DEFAULT_RETRY, parseRetryAfter, type RetryOptions } from './retry'
