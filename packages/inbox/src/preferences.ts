import type { Keys } from '@herald/keys'
import { defineScripts, type RedisClient } from '@herald/redis'
import { preferencesCopy } from './commands/preferences-copy-1'
import type { Preference } from './inbox'

const withScripts = (redis: RedisClient) => defineScripts(redis, [preferencesCopy] as const)

/** The most kinds a user may set apart from 'on' (PUT /inbox/preferences answers 400 past it). */
export const MAX_PREFERENCES = 100

/**
 * A user's choice per message kind: 'off' (not delivered: only the receipt says it was muted)
 * or 'silent' (kept in the inbox, not pushed live); a kind not listed is 'on'. The delivery
 * scripts read the same hash in the step that writes the message, so a muted user's gateway
 * reads nothing for it and no extra round trip is paid per message. A message to everyone is
 * written once per partition, not per user: it reads the partition's copy of every user's
 * choices that differ from 'on' (`partitionPreferences`) to leave them out of its live frame.
 */
export class Preferences {
  private readonly redis: ReturnType<typeof withScripts>

  constructor(
    redis: RedisClient,
    private readonly keys: Keys,
  ) {
    this.redis = withScripts(redis)
  }

  /** The kinds set apart from 'on'. */
  async get(userId: string): Promise<Record<string, Exclude<Preference, 'on'>>> {
    const h = await this.redis.hgetall(this.keys.preferences(userId))
    const out: Record<string, Exclude<Preference, 'on'>> = {}
    for (const [kind, v] of Object.entries(h)) if (v === 'off' || v === 'silent') out[kind] = v
    return out
  }

  /** Replaces every choice at once ('on' entries are dropped); returns what is now stored. */
  async replace(userId: string, kinds: Record<string, Preference>): Promise<Record<string, Exclude<Preference, 'on'>>> {
    const kept = Object.entries(kinds).filter((e): e is [string, 'off' | 'silent'] => e[1] !== 'on')
    if (kept.length > MAX_PREFERENCES) throw new Error(`at most ${MAX_PREFERENCES} kinds may be set`)
    const key = this.keys.preferences(userId)
    // the partition's copy (one slot with the user's hash, one MULTI): what a message to
    // everyone reads to leave the user out of its live frame
    const partition = this.keys.partitionPreferences(this.keys.partitionOf(userId))
    const tx = this.redis.multi().del(key)
    if (kept.length > 0)
      tx.hset(key, Object.fromEntries(kept)).hset(partition, userId, JSON.stringify(Object.fromEntries(kept)))
    else tx.hdel(partition, userId)
    await tx.exec()
    return Object.fromEntries(kept)
  }

  /**
   * Copies into each partition's copy the choices of users who set them before it existed (an
   * upgrade): once per partition (a marker key), a page of the partition's users at a time
   * (`pagesOf`: the users store's walk). Safe beside changes and other copies: a user's copy
   * already there is the newer one and is kept. Returns how many users' choices were copied.
   */
  async copyToPartitions(pagesOf: (partition: number) => AsyncIterable<string[]>): Promise<number> {
    let copied = 0
    for (const p of this.keys.allPartitions()) {
      const marker = this.keys.partitionPreferencesCopied(p)
      if ((await this.redis.exists(marker)) === 1) continue
      const around = this.keys.aroundUser(p, this.keys.preferences)
      for await (const page of pagesOf(p)) {
        copied += Number(await this.redis.heraldPreferencesCopy(this.keys.partitionPreferences(p), ...around, ...page))
      }
      await this.redis.set(marker, new Date().toISOString())
    }
    return copied
  }
}
