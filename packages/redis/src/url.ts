/**
 * REDIS_URL, the one setting that says where Redis is and in which topology:
 *
 *   redis://[user:pass@]host:port[/db]                    one server
 *   rediss://[user:pass@]host:port[/db]                   one server over TLS
 *   redis+sentinel://[user:pass@]host:port,host:port/<master-name>[?sentinelPassword=…&sentinelUsername=…&db=N]
 *                                                         a Sentinel-managed primary; the hosts are the sentinels,
 *                                                         user:pass are the data nodes' credentials
 *   redis+cluster://[user:pass@]host:port,host:port       a Redis Cluster; the hosts are seed nodes
 *
 * User names and passwords are percent-encoded (`encodeURIComponent`). Errors name REDIS_URL and
 * never repeat a password: the URL they quote has its credentials replaced by `***`.
 */

export interface HostPort {
  host: string
  port: number
}

interface Credentials {
  username?: string
  password?: string
}

export type RedisTarget =
  | ({ kind: 'single'; tls: boolean; db: number } & HostPort & Credentials)
  | ({
      kind: 'sentinel'
      sentinels: HostPort[]
      /** the master name the sentinels monitor */
      name: string
      db: number
      sentinelUsername?: string
      sentinelPassword?: string
    } & Credentials)
  | ({ kind: 'cluster'; nodes: HostPort[] } & Credentials)

export type RedisMode = RedisTarget['kind']

const DEFAULT_PORT = 6379
const DEFAULT_SENTINEL_PORT = 26379
const SCHEMES = {
  'redis:': 'single',
  'rediss:': 'single',
  'redis+sentinel:': 'sentinel',
  'redis+cluster:': 'cluster',
} as const
const SYNTAX =
  'expected redis://[user:pass@]host:port[/db], rediss://…, redis+sentinel://[user:pass@]host:port,host:port/<master-name>[?sentinelPassword=…&db=N] or redis+cluster://[user:pass@]host:port,host:port'

/** The URL with everything that may be a secret (userinfo, query values but db) replaced by `***`. */
export function redactRedisUrl(url: string): string {
  const schemeEnd = url.indexOf('://')
  let out = url
  const at = url.lastIndexOf('@')
  if (schemeEnd >= 0 && at > schemeEnd) out = `${url.slice(0, schemeEnd + 3)}***${url.slice(at)}`
  return out.replace(/([?&][^=&#]+)=([^&#]*)/g, (m, key: string) => (key.slice(1) === 'db' ? m : `${key}=***`))
}

/** Parses and validates REDIS_URL; throws an Error naming the variable (the password never in it). */
export function parseRedisUrl(url: string, variable = 'REDIS_URL'): RedisTarget {
  const fail = (why: string): never => {
    throw new Error(`${variable} is invalid: ${why} (${variable}=${redactRedisUrl(url)}); ${SYNTAX}`)
  }
  const m = /^([a-z+]+:)\/\/([^/?#]*)(\/[^?#]*)?(\?[^#]*)?$/i.exec(url.trim())
  if (!m) return fail('not a URL')
  const scheme = (m[1] ?? '').toLowerCase()
  const authority = m[2] ?? ''
  const path = (m[3] ?? '').replace(/^\//, '')
  const query = new URLSearchParams(m[4] ?? '')
  const kind = SCHEMES[scheme as keyof typeof SCHEMES]
  if (!kind) return fail(`unknown scheme "${scheme}//"`)

  const at = authority.lastIndexOf('@')
  const creds = at >= 0 ? credentials(authority.slice(0, at), fail) : {}
  const hostList = authority.slice(at + 1)
  if (!hostList) return fail('no host')
  const hosts = hostList
    .split(',')
    .map((h, i, all) =>
      hostPort(
        h,
        kind === 'sentinel' ? DEFAULT_SENTINEL_PORT : DEFAULT_PORT,
        all.length > 1 ? `host ${i + 1} of ${all.length}` : 'the host',
        fail,
      ),
    )

  const allowed = kind === 'sentinel' ? ['sentinelPassword', 'sentinelUsername', 'db'] : []
  for (const key of query.keys())
    if (!allowed.includes(key))
      fail(`unknown parameter "${key}"${allowed.length ? ` (known: ${allowed.join(', ')})` : ''}`)

  const dbOf = (raw: string | null | undefined): number => {
    if (raw === null || raw === undefined || raw === '') return 0
    if (!/^\d{1,2}$/.test(raw)) return fail(`database "${raw}" is not a number from 0 to 99`)
    return Number(raw)
  }

  if (kind === 'single') {
    if (hosts.length > 1)
      return fail(`${scheme}// takes one host; use redis+sentinel:// or redis+cluster:// for several`)
    return { kind, tls: scheme === 'rediss:', ...(hosts[0] as HostPort), ...creds, db: dbOf(path) }
  }
  if (kind === 'cluster') {
    if (path) return fail('a cluster has no database number or path (Redis Cluster has only database 0)')
    return { kind, nodes: hosts, ...creds }
  }
  const name = decode(path, fail, 'master name')
  if (!name) return fail('no master name: add /<master-name> after the sentinels')
  const sentinelPassword = query.get('sentinelPassword') ?? undefined
  const sentinelUsername = query.get('sentinelUsername') ?? undefined
  return {
    kind,
    sentinels: hosts,
    name,
    db: dbOf(query.get('db')),
    ...creds,
    ...(sentinelUsername ? { sentinelUsername } : {}),
    ...(sentinelPassword ? { sentinelPassword } : {}),
  }
}

function credentials(userinfo: string, fail: (why: string) => never): Credentials {
  const colon = userinfo.indexOf(':')
  const user = decode(colon >= 0 ? userinfo.slice(0, colon) : userinfo, fail, 'user name')
  const pass = colon >= 0 ? decode(userinfo.slice(colon + 1), fail, 'password') : ''
  return { ...(user ? { username: user } : {}), ...(pass ? { password: pass } : {}) }
}

function decode(s: string, fail: (why: string) => never, what: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return fail(`the ${what} is not percent-encoded correctly`)
  }
}

function hostPort(raw: string, defaultPort: number, which: string, fail: (why: string) => never): HostPort {
  // [v6]:port, host:port or host
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+)(?::(\d*))?$/.exec(raw)
  if (!m) return fail(`${which} is not host:port`)
  const host = (m[1] ?? '').replace(/^\[|\]$/g, '')
  if (m[2] === undefined) return { host, port: defaultPort }
  const port = Number(m[2])
  if (!m[2] || !Number.isInteger(port) || port < 1 || port > 65535) return fail(`${which} has no valid port (1-65535)`)
  return { host, port }
}
