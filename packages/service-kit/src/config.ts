import { createKeys, type Keys } from '@herald/keys'
import envSchema from 'env-schema'
import { type Static, type TObject, type TProperties, Type } from 'typebox'
import { isSecretName, MAKE_SECRET, secretProblem } from './secrets'

export { entropyBits, MAKE_SECRET, secretProblem } from './secrets'

/** Config every service shares. Defaults make the local stack run with no `.env`. */
export const BaseConfig = Type.Object({
  /**
   * `1`: dev mode — the built-in dev secrets and the dev SMS provider are allowed. Only on a
   * loopback `HOST` and never with `NODE_ENV=production`; `pnpm stack` and the tests set it.
   * Unset: every `*_SECRET` must be set, strong and not a placeholder.
   */
  HERALD_DEV: Type.Union([Type.Literal('0'), Type.Literal('1')], { default: '0' }),
  /** `production` also refuses `HERALD_DEV=1`. */
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('production'), Type.Literal('test')], {
    default: 'development',
  }),
  /** Address to listen on (0.0.0.0 in containers). */
  HOST: Type.String({ default: '127.0.0.1' }),
  /** HTTP port (each service overrides the default). */
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  /** pino level; logs never contain tokens, codes or tickets. At `info`, one access line per request (`warn` turns them off). */
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
  /**
   * Partitions of the users' keys (hash tags): 1 on one Redis or Sentinel; 16–32 on Redis
   * Cluster so users spread over its primaries. Every service of a deployment must use the
   * same value, for the deployment's whole life.
   */
  REDIS_PARTITIONS: Type.Integer({ minimum: 1, maximum: 256, default: 1 }),
  /** Name of this replica in presence, stats and logs. */
  REPLICA_ID: Type.String({ default: '', pattern: '^[A-Za-z0-9_.-]*$', maxLength: 64 }),
  /** Trust X-Forwarded-For from these proxies (comma-separated addresses/CIDRs) — nginx only. */
  TRUST_PROXY: Type.String({ default: '127.0.0.1,::1' }),
  /** Sliding session life: refreshed by every request and by open sockets. */
  SESSION_IDLE_TTL_SECONDS: Type.Integer({ minimum: 10, default: 1800 }),
  /** Absolute cap of a session from its login. */
  SESSION_MAX_AGE_SECONDS: Type.Integer({ minimum: 60, default: 7 * 24 * 3600 }),
  /** Approximate cap (XADD MAXLEN ~) of each gateway stream (one per gateway and partition). */
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

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    why: string,
  ) {
    super(`Invalid configuration: ${variable} ${why}`)
    this.name = 'ConfigError'
  }
}

/** 127.0.0.0/8, ::1 and localhost: the only addresses dev mode may listen on. */
export function isLoopback(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h)
}

/** True when the config asked for dev mode (HERALD_DEV=1); loadConfig has checked it is allowed. */
export function isDevMode(config: Pick<BaseConfig, 'HERALD_DEV'>): boolean {
  return config.HERALD_DEV === '1'
}

/**
 * Fail closed: outside dev mode every `*_SECRET` of the schema must be set explicitly (its
 * default is a public dev value), must not be a placeholder and must be long and random.
 * Dev mode itself is refused in production and on a non-loopback HOST.
 */
function checkDevAndSecrets(schema: TObject, config: Record<string, unknown>, given: Record<string, unknown>): void {
  if (config.HERALD_DEV === '1') {
    if (config.NODE_ENV === 'production') throw new ConfigError('HERALD_DEV', 'must not be 1 with NODE_ENV=production')
    if (!isLoopback(String(config.HOST)))
      throw new ConfigError(
        'HERALD_DEV',
        `must not be 1 on a non-loopback HOST (${String(config.HOST)}): dev mode uses public secrets`,
      )
    return
  }
  for (const name of Object.keys(schema.properties)) {
    if (!isSecretName(name)) continue
    const value = given[name]
    // a secret whose default is empty is optional (e.g. the previous one during a rotation)
    const optional = (schema.properties[name] as { default?: unknown }).default === ''
    if (value === undefined && optional) continue
    if (typeof value !== 'string')
      throw new ConfigError(
        name,
        `must be set (make one: ${MAKE_SECRET}); for a local dev run on 127.0.0.1 set HERALD_DEV=1 instead`,
      )
    const problem = secretProblem(value)
    if (problem) throw new ConfigError(name, `${problem}; make one: ${MAKE_SECRET}`)
  }
}

/**
 * Reads and validates config from the environment once, at start-up.
 * A bad value fails with an error that names the variable.
 */
export function loadConfig<S extends TObject>(schema: S, env: NodeJS.ProcessEnv = process.env): Static<S> {
  // Empty strings in the environment mean "unset", so defaults apply.
  const data = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''))
  let config: Static<S>
  try {
    config = envSchema<Static<S>>({ schema, data, dotenv: false })
  } catch (err) {
    throw new Error(`Invalid configuration: ${(err as Error).message}`)
  }
  checkDevAndSecrets(schema, config as Record<string, unknown>, data)
  return config
}

/**
 * Applies a service's defaults to a partial config: what tests pass to buildApp. Tests run
 * in dev mode (HERALD_DEV=1, the dev secrets) unless the overrides say otherwise.
 */
export function configWithDefaults<S extends TObject>(schema: S, overrides: Partial<Static<S>> = {}): Static<S> {
  const env: Record<string, string> = { HERALD_DEV: '1' }
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) env[k] = String(v)
  return loadConfig(schema, env)
}

/** The key builders of a deployment: the prefix and partition count every service shares. */
export function keysFor(config: Pick<BaseConfig, 'KEY_PREFIX' | 'REDIS_PARTITIONS'>): Keys {
  return createKeys(config.KEY_PREFIX, config.REDIS_PARTITIONS)
}
