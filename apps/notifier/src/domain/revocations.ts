import type { Keys } from '@herald/keys'
import type { RedisClient } from '@herald/redis'

/**
 * Revoked service tokens: a sorted set jti → the token's expiry (epoch s), so an entry goes
 * once the token would have expired anyway. Every replica checks each call against its copy,
 * read again when older than `cacheMs` (one read in flight at a time): a revocation takes
 * effect everywhere within `cacheMs`. When Redis cannot be read the copy is not trusted and
 * the call fails (503), never answered from a stale list.
 */
export class RevocationList {
  private revoked = new Set<string>()
  private readAt = Number.NEGATIVE_INFINITY
  private reading: Promise<void> | null = null

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly cacheMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  async isRevoked(jti: string): Promise<boolean> {
    if (this.clock() - this.readAt >= this.cacheMs) {
      this.reading ??= this.read().finally(() => {
        this.reading = null
      })
      await this.reading
    }
    return this.revoked.has(jti)
  }

  /** Revokes a token until its expiry (epoch s); expired entries are dropped on the way. */
  async revoke(jti: string, exp: number): Promise<void> {
    const now = Math.floor(this.clock() / 1000)
    await this.redis
      .multi()
      .zadd(this.keys.revokedServiceTokens(), exp, jti)
      .zremrangebyscore(this.keys.revokedServiceTokens(), '-inf', now)
      .exec()
    this.readAt = Number.NEGATIVE_INFINITY
  }

  private async read(): Promise<void> {
    const now = Math.floor(this.clock() / 1000)
    const live = await this.redis.zrangebyscore(this.keys.revokedServiceTokens(), now, '+inf')
    this.revoked = new Set(live)
    this.readAt = this.clock()
  }
}
