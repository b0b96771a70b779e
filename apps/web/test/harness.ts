import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Stack, startStack } from '@herald/stack'
import { type Browser, chromium, type Page } from 'playwright-core'

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
export const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url))
const DIST = fileURLToPath(new URL('../dist/index.html', import.meta.url))

/** The whole stack on free ports in a temp dir; nginx serves apps/web/dist at `/` (and refuses WebSockets when asked). */
export async function webStack(
  opts: { refuseWebSockets?: boolean; env?: Record<string, string> } = {},
): Promise<Stack> {
  if (!existsSync(DIST)) throw new Error('apps/web/dist is not built: run `pnpm --filter @herald/web build` first')
  const dir = mkdtempSync(join(tmpdir(), 'herald-web-'))
  try {
    return await startStack({
      port: 0,
      dir,
      logToFiles: true,
      refuseWebSockets: opts.refuseWebSockets ?? false,
      env: {
        // every test user signs in from 127.0.0.1; per-IP limits are the auth suite's business
        RATE_LIMIT_CODE_PER_MINUTE_PER_IP: '100000',
        RATE_LIMIT_LOGIN_PER_MINUTE_PER_IP: '100000',
        HEARTBEAT_INTERVAL_MS: '1000',
        ...opts.env,
      },
    })
  } catch (err) {
    // say why a service did not come up, not only that it did not
    const logs = join(dir, 'logs')
    const tails = existsSync(logs)
      ? readdirSync(logs).map((f) => {
          const lines = readFileSync(join(logs, f), 'utf8').trimEnd().split('\n')
          return `--- ${f} (last lines)\n${lines.slice(-8).join('\n')}`
        })
      : []
    throw new Error(`the stack did not start: ${(err as Error).message}\n${tails.join('\n')}\n(logs in ${logs})`)
  }
}

/** Stops the stack, keeps its logs as test artefacts and removes its temp dir. */
export async function stopWebStack(stack: Stack): Promise<void> {
  await stack.stop()
  const logs = join(stack.dir, 'logs')
  if (existsSync(logs)) cpSync(logs, join(ARTIFACTS, 'stack-logs'), { recursive: true })
  for (const f of ['access.log', 'error.log']) {
    const src = join(stack.dir, 'nginx', f)
    if (existsSync(src)) cpSync(src, join(ARTIFACTS, 'stack-logs', `nginx-${f}`))
  }
  rmSync(stack.dir, { recursive: true, force: true })
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`)
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  })
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true })
  const path = join(ARTIFACTS, `${name}.png`)
  await page.evaluate(() => window.scrollTo(0, 0))
  await page.screenshot({ path, animations: 'disabled' })
  return path
}

export function writeArtifact(name: string, data: unknown): void {
  mkdirSync(ARTIFACTS, { recursive: true })
  writeFileSync(join(ARTIFACTS, name), `${JSON.stringify(data, null, 2)}\n`)
}

export async function api<T>(
  stack: Stack,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown } = {},
): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = {}
  if (opts.token) headers.authorization = `Bearer ${opts.token}`
  if (opts.body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers,
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    signal: AbortSignal.timeout(10_000),
  })
  const text = await res.text()
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T }
}

let phoneSeq = 0
/** A CN mobile number no other test run uses at the same time. */
export function newPhone(): string {
  phoneSeq++
  return `+86137${String(process.pid % 1000).padStart(3, '0')}${String(phoneSeq).padStart(5, '0')}`
}

/** An SMS login through the public API (for the users the page talks to); the same phone again is another session of that user. */
export async function loginByApi(
  stack: Stack,
  device = 'node',
  phone = newPhone(),
): Promise<{ token: string; userId: string }> {
  const sent = await api(stack, 'POST', '/auth/code', { body: { phone } })
  if (sent.status !== 202) throw new Error(`POST /auth/code → ${sent.status}`)
  const sms = await api<{ code: string }>(stack, 'GET', `/auth/dev/sms/${encodeURIComponent(phone)}`)
  const res = await api<{ token: string; user: { id: string } }>(stack, 'POST', '/auth/login', {
    body: { phone, code: sms.body.code, device },
  })
  if (res.status !== 200) throw new Error(`POST /auth/login → ${res.status}`)
  return { token: res.body.token, userId: res.body.user.id }
}

/** `POST /v1/messages` with the stack's service token. */
export async function sendMessage(stack: Stack, userId: string, title: string, body = title): Promise<string> {
  const res = await api<{ ids: string[] }>(stack, 'POST', '/v1/messages', {
    token: stack.serviceToken,
    body: { to: { userIds: [userId] }, title, body },
  })
  if (res.status !== 202) throw new Error(`POST /v1/messages → ${res.status} ${JSON.stringify(res.body)}`)
  return res.body.ids[0] as string
}

export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** What the page shows, read from the DOM as a user would see it. */
export const view = {
  state: (page: Page) => page.getAttribute('[data-testid=status]', 'data-state'),
  replica: (page: Page) => page.textContent('[data-testid=replica]'),
  transport: (page: Page) => page.getAttribute('[data-testid=transport]', 'data-transport'),
  badge: async (page: Page) => Number(await page.getAttribute('[data-testid=badge]', 'data-count')),
  titles: (page: Page) => page.locator('[data-testid=notification] .item-title').allTextContents(),
  item: (page: Page, id: string) => page.locator(`[data-testid=notification][data-id="${id}"]`),
  waitConnected: (page: Page, timeout = 15_000) =>
    page.locator('[data-testid=status][data-state=connected]').waitFor({ timeout }),
}

export interface GatewayKill {
  /** the replica that was killed */
  killed: string
  /** the ids sent while the page was away, in order */
  sent: string[]
  /** the page's state right after they were sent */
  stateWhileSending: string | null
  toReconnectingMs: number
  toReconnectedMs: number
  toCaughtUpMs: number
}

/**
 * Kills (SIGKILL) the gateway under the page, sends `count` messages titled `<title> <i>`
 * while the page is away, and waits until it is connected to another replica and shows each
 * of them exactly once. The caller brings the replica back when it needs it.
 */
export async function killGatewayUnder(
  stack: Stack,
  page: Page,
  userId: string,
  title: string,
  count = 3,
): Promise<GatewayKill> {
  const killed = (await view.replica(page)) as string
  const t0 = Date.now()
  await stack.proc('gateway', Number(killed.replace('gateway-', ''))).stop('SIGKILL')
  // the page sees its connection die and waits out its backoff (≥ 500 ms): send while it is away
  await page.locator('[data-testid=status][data-state=reconnecting]').waitFor({ timeout: 10_000 })
  const toReconnectingMs = Date.now() - t0
  const sent: string[] = []
  for (let i = 1; i <= count; i++) sent.push(await sendMessage(stack, userId, `${title} ${i}`))
  const stateWhileSending = await view.state(page)
  await until(async () => {
    const r = await view.replica(page)
    return (await view.state(page)) === 'connected' && r !== killed
  }, 'the page reconnected to another replica')
  const toReconnectedMs = Date.now() - t0
  for (const id of sent) await view.item(page, id).waitFor({ timeout: 10_000 })
  const toCaughtUpMs = Date.now() - t0
  const titles = await view.titles(page)
  for (let i = 1; i <= count; i++) {
    const n = titles.filter((t) => t === `${title} ${i}`).length
    if (n !== 1) throw new Error(`"${title} ${i}" is shown ${n} times, not once`)
  }
  return { killed, sent, stateWhileSending, toReconnectingMs, toReconnectedMs, toCaughtUpMs }
}
