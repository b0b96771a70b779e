import { randomBytes } from 'node:crypto'
import type { User } from '@herald/contracts'
import type { Keys } from '@herald/keys'
import type { Redis } from 'ioredis'
import { type AuthRedis, fromFlat, withAuthCommands } from './commands'
import { defaultNickname, maskPhone } from './phone'

/** The user hash in Redis; every value a string. */
export interface UserRecord {
  id: string
  /** E.164 */
  phone: string
  nickname: string
  /** epoch ms */
  createdAt: string
}

export function newUserId(): string {
  return `u_${randomBytes(8).toString('hex')}`
}

/** What pages see of a user: the phone masked. */
export function userView(u: UserRecord): User {
  return { id: u.id, nickname: u.nickname, phone: maskPhone(u.phone) }
}

function toUser(flat: string[]): UserRecord | null {
  const o = fromFlat(flat)
  return o.id ? (o as unknown as UserRecord) : null
}

/** Users: a hash per user, the phone index and the set of every user id. */
export class UserStore {
  private readonly redis: AuthRedis

  constructor(
    redis: Redis,
    private readonly keys: Keys,
  ) {
    this.redis = withAuthCommands(redis)
  }

  /** The user of `phone`, created on first login (atomically: one user per phone, however many race). */
  async findOrCreate(phone: string, now = Date.now()): Promise<{ user: UserRecord; created: boolean }> {
    const id = newUserId()
    const [created, flat] = await this.redis.heraldUserUpsert(
      this.keys.userPhones(),
      this.keys.users(),
      this.keys.user(id),
      phone,
      id,
      this.keys.user(''),
      defaultNickname(phone),
      String(now),
    )
    const user = toUser(flat)
    if (!user) throw new Error('user upsert returned no user')
    return { user, created: created === 1 }
  }

  async get(userId: string): Promise<UserRecord | null> {
    const o = await this.redis.hgetall(this.keys.user(userId))
    return o.id ? (o as unknown as UserRecord) : null
  }

  /** Null when there is no such user. */
  async rename(userId: string, nickname: string): Promise<UserRecord | null> {
    return toUser(await this.redis.heraldUserRename(this.keys.user(userId), nickname))
  }
}
