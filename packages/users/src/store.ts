import { randomBytes } from 'node:crypto'
import type { Keys } from '@herald/keys'
import { defineScripts, fromFlat, type RedisClient, setPages } from '@herald/redis'
import { phoneClaim } from './commands/phone-claim-1'
import { userEnsure } from './commands/user-ensure-2'
import { userRename } from './commands/user-rename-1'

const SCRIPTS = [phoneClaim, userEnsure, userRename] as const
const withScripts = (redis: RedisClient) => defineScripts(redis, SCRIPTS)

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

function toUser(flat: string[]): UserRecord | null {
  const o = fromFlat(flat)
  return o.id ? (o as unknown as UserRecord) : null
}

/**
 * Users: a hash per user and a users set per partition (in the user's partition), and the
 * phone → user id index in the phone's slot. The one owner of these keys: auth creates and
 * renames users, the notifier reads nicknames and walks the users for announcements.
 */
export class UserStore {
  private readonly redis: ReturnType<typeof withScripts>

  constructor(
    redis: RedisClient,
    private readonly keys: Keys,
  ) {
    this.redis = withScripts(redis)
  }

  /**
   * The user of `phone`, created on first login. Two idempotent steps, each in one slot:
   * claim a user id for the phone (one per phone, however many logins race), then create the
   * record if missing (`ensure`). A crash between them leaves a claimed id whose record the next
   * login creates; a retried step changes nothing. A sign-in claims the id in its code check's
   * step instead (PHONE_CLAIM_LIB) and calls `ensure` itself.
   */
  async findOrCreate(
    phone: string,
    nickname: string,
    now = Date.now(),
  ): Promise<{ user: UserRecord; created: boolean }> {
    const [, id] = (await this.redis.heraldPhoneClaim(this.keys.phoneUser(phone), newUserId())) as [number, string]
    return this.ensure(id, phone, nickname, now)
  }

  /** The record of the user id claimed for `phone`, created (with `nickname`) if missing. */
  async ensure(
    id: string,
    phone: string,
    nickname: string,
    now = Date.now(),
  ): Promise<{ user: UserRecord; created: boolean }> {
    const [created, flat] = (await this.redis.heraldUserEnsure(
      this.keys.user(id),
      this.keys.partitionUsers(this.keys.partitionOf(id)),
      id,
      phone,
      nickname,
      String(now),
    )) as [number, string[]]
    const user = toUser(flat)
    if (!user) throw new Error('user ensure returned no user')
    return { user, created: created === 1 }
  }

  async get(userId: string): Promise<UserRecord | null> {
    const o = await this.redis.hgetall(this.keys.user(userId))
    return o.id ? (o as unknown as UserRecord) : null
  }

  async nickname(userId: string): Promise<string | null> {
    return (await this.redis.hget(this.keys.user(userId), 'nickname')) || null
  }

  /** Null when there is no such user. */
  async rename(userId: string, nickname: string): Promise<UserRecord | null> {
    return toUser((await this.redis.heraldUserRename(this.keys.user(userId), nickname)) as string[])
  }

  /**
   * The user ids of one partition a page of about `pageSize` at a time (SSCAN), for walks over
   * every user (announcements, their retraction) that must not hold a whole partition at once.
   * An id present for the whole walk comes at least once; one may come twice.
   */
  idPagesIn(partition: number, pageSize: number): AsyncGenerator<string[]> {
    return setPages(this.redis, this.keys.partitionUsers(partition), pageSize)
  }
}
