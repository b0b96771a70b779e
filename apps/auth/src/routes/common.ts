import { ErrorResponse } from '@herald/contracts'
import { Type } from 'typebox'

/** Every route answers errors in Fastify's shape with a stable `code`. */
export const errorReplies = { '4xx': ErrorResponse, '5xx': ErrorResponse }

export const NoContent = Type.Null({ description: 'No Content' })

/** Session timestamps are epoch ms strings in Redis; pages get ISO dates. */
export function isoFromMs(ms: string): string {
  return new Date(Number(ms)).toISOString()
}
