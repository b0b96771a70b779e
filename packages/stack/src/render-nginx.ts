import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..')
export const NGINX_TEMPLATE = join(REPO_ROOT, 'infra/nginx/herald.conf.template')

/**
 * Renders the one nginx template with envsubst semantics: `${NAME}` is replaced only for
 * the variables given (as the nginx image's envsubst does), nginx's own `$vars` stay.
 */
export function renderTemplate(template: string, vars: Record<string, string>): string {
  return template.replace(/\$\{([A-Z0-9_]+)\}/g, (whole, name: string) => vars[name] ?? whole)
}

/**
 * No passive failure accounting for gateways. nginx forgets a peer's failures only when a
 * request sent after the failure *completes*, and a WebSocket lives for hours: once every
 * gateway had been down together (a rolling deploy gone wrong, a Redis blip), nginx let
 * one upgrade per gateway through every fail_timeout and answered the rest 502 "no live
 * upstreams" — a 1,500-socket storm took minutes to come back. A dead gateway refuses the
 * connect at once and `proxy_next_upstream error` moves on, so nothing is lost without it.
 */
export const GATEWAY_SERVER_PARAMS = 'max_fails=0'

/** Per-client-address limits nginx applies on /auth, /v1 (and /inbox, /docs) and /ws. */
export interface NginxLimits {
  /** requests per second to /auth/ (`limit_req` rate) */
  authRate: number
  /** requests above the rate let through at once before 429 (`limit_req` burst) */
  authBurst: number
  /** requests per second to /v1/, /inbox and /docs */
  apiRate: number
  apiBurst: number
  /** WebSocket handshakes per second to /ws */
  wsRate: number
  wsBurst: number
  /** HTTP requests in progress at once, per address (`limit_conn`) */
  httpConnections: number
  /** open WebSockets per address (`limit_conn`) */
  wsConnections: number
}

/**
 * For a deployment (compose): one address signs in a few times a second, calls the API at
 * hundreds of requests per second (a backend system) and holds up to 1000 sockets (a NAT).
 */
export const DEPLOYMENT_LIMITS: NginxLimits = {
  authRate: 20,
  authBurst: 40,
  apiRate: 500,
  apiBurst: 1000,
  wsRate: 20,
  wsBurst: 100,
  httpConnections: 64,
  wsConnections: 1000,
}

/**
 * For the local stack: every test, load test and benchmark client comes from 127.0.0.1, at
 * up to ~4000 requests/s and 10,000 sockets; these leave room for that. A benchmark that
 * goes further passes its own.
 */
export const LOCAL_LIMITS: NginxLimits = {
  authRate: 50_000,
  authBurst: 50_000,
  apiRate: 50_000,
  apiBurst: 50_000,
  wsRate: 20_000,
  wsBurst: 20_000,
  httpConnections: 20_000,
  wsConnections: 60_000,
}

/** The template variables of the limits. */
export function limitVars(l: NginxLimits): Record<string, string> {
  for (const [name, v] of Object.entries(l)) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`nginx limit ${name} must be a positive integer, got ${v}`)
  }
  return {
    HERALD_AUTH_RATE: `${l.authRate}r/s`,
    HERALD_AUTH_BURST: String(l.authBurst),
    HERALD_API_RATE: `${l.apiRate}r/s`,
    HERALD_API_BURST: String(l.apiBurst),
    HERALD_WS_RATE: `${l.wsRate}r/s`,
    HERALD_WS_BURST: String(l.wsBurst),
    HERALD_HTTP_CONN: String(l.httpConnections),
    HERALD_WS_CONN: String(l.wsConnections),
  }
}

/**
 * HERALD_REAL_IP: the proxies (addresses or CIDRs) whose X-Forwarded-For nginx believes, so
 * per-address limits and the services see the client behind a TLS load balancer. None
 * (the default): the variable is empty and nginx uses the connection's address.
 */
export function realIpDirectives(trustedProxies: string[]): string {
  const ip = /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]*)(?:\/\d{1,3})?$/
  for (const p of trustedProxies) {
    if (!ip.test(p)) throw new Error(`trusted proxy "${p}" is not an IP address or CIDR range`)
  }
  if (trustedProxies.length === 0) return ''
  return [
    ...trustedProxies.map((p) => `set_real_ip_from ${p};`),
    'real_ip_header X-Forwarded-For;',
    'real_ip_recursive on;',
  ].join('\n  ')
}

export interface NginxLocalOptions {
  dir: string
  port: number
  auth: number[]
  gateway: number[]
  notifier: number[]
  staticRoot: string
  /** per-address limits @default LOCAL_LIMITS */
  limits?: Partial<NginxLimits>
  /** proxies whose X-Forwarded-For is believed @default [] (none) */
  trustedProxies?: string[]
  /** /ws answers 403 before any upgrade, as a proxy that blocks WebSockets would @default false */
  refuseWebSockets?: boolean
}

/** The hard limit of open files here (nginx may raise its soft limit up to it, not past it). */
function openFilesLimit(): number {
  try {
    const hard = execFileSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim()
    return hard === 'unlimited' ? 131_072 : Math.min(131_072, Number(hard))
  } catch {
    return 16_384
  }
}

/** A complete nginx.conf for the local stack: the shared template inside a minimal main config. */
export function localNginxConf(o: NginxLocalOptions): string {
  const servers = (ports: number[], params = 'max_fails=1 fail_timeout=2s') =>
    ports.map((p) => `server 127.0.0.1:${p} ${params};`).join('\n  ')
  const site = renderTemplate(readFileSync(NGINX_TEMPLATE, 'utf8'), {
    HERALD_AUTH_UPSTREAMS: servers(o.auth),
    HERALD_GATEWAY_UPSTREAMS: servers(o.gateway, GATEWAY_SERVER_PARAMS),
    HERALD_NOTIFIER_UPSTREAMS: servers(o.notifier),
    HERALD_LISTEN: `127.0.0.1:${o.port}`,
    HERALD_ACCESS_LOG: join(o.dir, 'access.log'),
    HERALD_STATIC_ROOT: o.staticRoot,
    HERALD_REAL_IP: realIpDirectives(o.trustedProxies ?? []),
    ...limitVars({ ...LOCAL_LIMITS, ...o.limits }),
  })
  const wsBlock = 'location = /ws {\n'
  if (o.refuseWebSockets && !site.includes(wsBlock)) throw new Error('the nginx template has no `location = /ws` block')
  const finalSite = o.refuseWebSockets ? site.replace(wsBlock, `${wsBlock}    return 403;\n`) : site
  // Started as root (CI containers), nginx's workers run as nobody and cannot reach temp
  // dirs under a 0700 working dir (mkdtemp): every proxied body or response that spills to
  // disk failed with 500. The local stack's workers run as the user that started it.
  const user = process.getuid?.() === 0 ? 'user root root;\n' : ''
  return `# generated by pnpm stack from infra/nginx/herald.conf.template — do not edit
${user}worker_processes auto;
worker_rlimit_nofile ${openFilesLimit()};
pid ${join(o.dir, 'nginx.pid')};
error_log ${join(o.dir, 'error.log')} warn;
daemon off;
# every WebSocket holds two connections (client and upstream)
events { worker_connections 65536; }
http {
  default_type application/octet-stream;
  types { text/html html; text/css css; application/javascript js mjs; image/svg+xml svg; image/png png; application/json json; }
  client_body_temp_path ${join(o.dir, 'tmp/body')};
  proxy_temp_path ${join(o.dir, 'tmp/proxy')};
  fastcgi_temp_path ${join(o.dir, 'tmp/fastcgi')};
  uwsgi_temp_path ${join(o.dir, 'tmp/uwsgi')};
  scgi_temp_path ${join(o.dir, 'tmp/scgi')};
  sendfile on;
  keepalive_timeout 65s;
${finalSite}
}
`
}
