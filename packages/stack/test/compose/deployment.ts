import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { signServiceToken } from '../../src/token'
import { api, type LoggedIn, newPhone } from '../client'

const run = promisify(execFile)

function required(name: string): string {
  const v = process.env[name]
  if (!v) throw new Error(`${name} is not set: run this suite through \`pnpm test:compose\``)
  return v
}

/** The compose deployment scripts/test-compose.sh started: its nginx, its SMS sink, its containers. */
export const deployment = {
  url: required('HERALD_COMPOSE_URL'),
  wsUrl: `${required('HERALD_COMPOSE_URL').replace(/^http/, 'ws')}/ws`,
  smsUrl: required('HERALD_COMPOSE_SMS_URL'),
  project: required('HERALD_COMPOSE_PROJECT'),
  serviceToken: signServiceToken({
    secret: required('SERVICE_JWT_SECRET'),
    audience: process.env.SERVICE_JWT_AUDIENCE || 'herald',
    sub: 'compose-test',
    scope: 'events:write messages:write presence:read users:disconnect stats:read',
    ttlSeconds: 3600,
  }),
}

/** Sign in through nginx: the real `webhook` SMS provider posts the code to the stand-in gateway. */
export async function signIn(phone = newPhone(), device = 'compose'): Promise<LoggedIn> {
  const sent = await api(deployment.url, 'POST', '/auth/code', { body: { phone } })
  if (sent.status !== 202) throw new Error(`POST /auth/code → ${sent.status} ${JSON.stringify(sent.body)}`)
  const sms = await fetch(`${deployment.smsUrl}/codes/${encodeURIComponent(phone)}`)
  if (!sms.ok) throw new Error(`the SMS gateway got no code for ${phone} (${sms.status})`)
  const { code } = (await sms.json()) as { code: string }
  const res = await api<{ token: string; user: LoggedIn['user'] }>(deployment.url, 'POST', '/auth/login', {
    body: { phone, code, device },
  })
  if (res.status !== 200) throw new Error(`POST /auth/login → ${res.status} ${JSON.stringify(res.body)}`)
  return { token: res.body.token, user: res.body.user, phone, code }
}

export interface Container {
  id: string
  name: string
  service: string
}

/** The running containers of one compose service (podman, with the environment the script set). */
export async function containers(service: string): Promise<Container[]> {
  const { stdout } = await run('podman', [
    'ps',
    '--filter',
    `label=com.docker.compose.project=${deployment.project}`,
    '--filter',
    `label=com.docker.compose.service=${service}`,
    '--format',
    '{{.ID}} {{.Names}}',
  ])
  return stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [id, name] = line.split(' ') as [string, string]
      return { id, name, service }
    })
}

export async function podman(...args: string[]): Promise<string> {
  return (await run('podman', args)).stdout.trim()
}

/** Health as the engine sees it: runs the image's own health check once. */
export async function healthy(c: Container): Promise<boolean> {
  return run('podman', ['healthcheck', 'run', c.id]).then(
    () => true,
    () => false,
  )
}

export async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 250))
  }
}
