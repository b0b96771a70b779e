import type { Keys } from '@herald/keys'
import type { RedisClient } from '@herald/redis'
import type { SmsMessage, SmsProvider } from './provider'

/**
 * Sends nothing: keeps the last code per phone in Redis, for as long as the code lives, so
 * GET /auth/dev/sms/:phone can show it on any replica. Refused in production by the config.
 */
export class DevSmsProvider implements SmsProvider {
  readonly name = 'dev'

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly ttlSeconds: number,
  ) {}

  async send(message: SmsMessage): Promise<void> {
    await this.redis.set(this.keys.devSms(message.to), message.code, 'PX', this.ttlSeconds * 1000)
  }
}

/** The last code the dev provider kept for `phone` (E.164), if it still lives. */
export async function readDevCode(redis: RedisClient, keys: Keys, phone: string): Promise<string | null> {
  return redis.get(keys.devSms(phone))
}
