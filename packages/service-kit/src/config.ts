import envSchema from 'env-schema'
import { type Static, type TObject, type TProperties, Type } from 'typebox'

/** Config every service shares. Defaults make the local stack run with no `.env`. */
export const BaseConfig = Type.Object({
  /** `production` refuses dev secrets and the dev SMS provider. */
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('production'), Type.Literal('test')], {
    default: 'development',
  }),
  /** Address to listen on (0.0.0.0 in containers). */
  HOST: Type.String({ default: '127.0.0.1' }),
  /** HTTP port (each service overrides the default). */
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  /** pino level; logs never contain tokens, codes or tickets. */
  LOG_LEVEL: Type.Union(
    [
      Type.Literal('fatal'),
      Type.Literal('error'),
      Type.Literal('warn'),
      Type.Literal('info'),
      Type.Literal('debug'),
      Type.Literal('trace'),
      Type.Literal('silent'),
    ],
    { default: 'info' },
  ),
  /**
   * Redis, the only state: `redis://[user:pass@]host:port[/db]`, `rediss://…` (TLS),
   * `redis+sentinel://[user:pass@]host:port,host:port/<master-name>` or
   * `redis+cluster://[user:pass@]host:port,host:port` (README: REDIS_URL).
   */
  REDIS_URL: Type.String({
    default: 'redis://127.0.0.1:6379',
    pattern: '^(redis|rediss|redis\\+sentinel|redis\\+cluster)://',
  }),
  /** Prefix of every Redis key: several deployments can share one Redis. */
  KEY_PREFIX: Type.String({ default: 'herald:', pattern: '^[A-Za-z0-9:_-]*$' }),
  /** Name of this replica in presence, stats and logs. */
  REPLICA_ID: Type.String({ default: '', pattern: '^[A-Za-z0-9_.-]*$', maxLength: 64 }),
  /** Trust X-Forwarded-For from these proxies (comma-separated addresses/CIDRs) — nginx only. */
  TRUST_PROXY: Type.String({ default: '127.0.0.1,::1' }),
  /** Sliding session life: refreshed by every request and by open sockets. */
  SESSION_IDLE_TTL_SECONDS: Type.Integer({ minimum: 10, default: 1800 }),
  /** Absolute cap of a session from its login. */
  SESSION_MAX_AGE_SECONDS: Type.Integer({ minimum: 60, default: 7 * 24 * 3600 }),
  /** Approximate cap (XADD MAXLEN ~) of the delivery stream. */
  STREAM_MAXLEN: Type.Integer({ minimum: 1000, default: 100_000 }),
  /**
   * Browser origins (comma-separated) allowed to call the HTTP API from another site (CORS);
   * empty: same-origin only (pages served behind the same nginx need nothing).
   */
  CORS_ORIGINS: Type.String({ default: '' }),
  /** Largest request body accepted (413 above). */
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, maximum: 10 * 1024 * 1024, default: 64 * 1024 }),
})
export type BaseConfig = Static<typeof BaseConfig>

/** Merges the base config schema with a service's own properties. */
export function serviceConfigSchema<P extends TProperties>(props: P) {
  return Type.Object({ ...BaseConfig.properties, ...props })
}

/**
 * Reads and validates config from the environment once, at start-up.
 * A bad value fails with an error that names the variable.
 */
export function loadConfig<S extends TObject>(schema: S, env: NodeJS.ProcessEnv = process.env): Static<S> {
  // Empty strings in the environment mean "unset", so defaults apply.
  const data = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''))
  try {
    return envSchema<Static<S>>({ schema, data, dotenv: false })
  } catch (err) {
    throw new Error(`Invalid configuration: ${(err as Error).message}`)
  }
}

/** Applies a service's defaults to a partial config: what tests pass to buildApp. */
export function configWithDefaults<S extends TObject>(schema: S, overrides: Partial<Static<S>> = {}): Static<S> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) env[k] = String(v)
  return loadConfig(schema, env)
}
