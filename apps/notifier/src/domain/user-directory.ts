import type { UserStore } from '@herald/users'
import { ExpiringCache } from './expiring-cache'

/** What delivery reads of the users: a partition's ids in pages (announcements) and nicknames (message text). */
export type UserDirectory = Pick<UserStore, 'idPagesIn' | 'nickname'>

/**
 * The users, with each nickname kept `ttlMs` after it was read (NICKNAME_CACHE_MS): a sender of
 * many chat messages costs one look-up per period, not one per event. A rename shows in new
 * messages at most `ttlMs` later; 0 reads it for every event.
 */
export function cachedNicknames(users: UserStore, ttlMs: number): UserDirectory {
  const nicknames = new ExpiringCache<string | null>(ttlMs)
  return {
    idPagesIn: (partition, pageSize) => users.idPagesIn(partition, pageSize),
    nickname: (userId) => nicknames.get(userId, () => users.nickname(userId)),
  }
}
