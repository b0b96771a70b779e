import type { Keys } from '@herald/keys'
import type { RedisClient } from '@herald/redis'
import { ConfigError, isDevMode } from '@herald/service-kit'
import type { AuthConfig } from '../config'
import { DevSmsProvider } from './dev'
import type { SmsProvider } from './provider'
import { WebhookSmsProvider } from './webhook'

export type { SmsMessage, SmsProvider } from './provider'

/** The provider SMS_PROVIDER names; the dev one only in dev mode, whoever built the config. */
export function createSmsProvider(config: AuthConfig, redis: RedisClient, keys: Keys): SmsProvider {
  if (config.SMS_PROVIDER === 'webhook') {
    return new WebhookSmsProvider({ url: config.SMS_WEBHOOK_URL, timeoutMs: config.SMS_WEBHOOK_TIMEOUT_MS })
  }
  if (!isDevMode(config)) throw new ConfigError('SMS_PROVIDER', 'may be "dev" only in dev mode (HERALD_DEV=1)')
  return new DevSmsProvider(redis, keys, config.OTP_TTL_SECONDS)
}
