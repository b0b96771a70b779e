import type { RedisClient } from './scripts'

/**
 * The members of a set a page of about `pageSize` at a time (SSCAN), for walks that must not
 * hold a whole set at once. A member present for the whole walk comes at least once; one may
 * come twice.
 */
export async function* setPages(redis: RedisClient, key: string, pageSize: number): AsyncGenerator<string[]> {
  let cursor = '0'
  do {
    const [next, ids] = await redis.sscan(key, cursor, 'COUNT', pageSize)
    cursor = next
    if (ids.length > 0) yield ids
  } while (cursor !== '0')
}
