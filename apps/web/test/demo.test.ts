import { createClient, type HeraldClient, type HeraldMessage } from '@herald/client'
import type { Stack } from '@herald/stack'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import {
  api,
  killGatewayUnder,
  launchChromium,
  loginByApi,
  newPhone,
  screenshot,
  sendMessage,
  stopWebStack,
  until,
  view,
  webStack,
  writeArtifact,
} from './harness'

/**
 * The demo page in real Chromium against the real stack through nginx: sign in with the dev
 * SMS code, live delivery, a second tab, read sync, the test sender, a gateway killed under
 * the page, sessions and sign-out everywhere. One story, told in order: each step starts
 * from where the previous one left the page.
 */
let stack: Stack
let browser: Browser
let context: BrowserContext
let tab1: Page
let tab2: Page
let userId: string
const pageErrors: string[] = []
/** every Content-Security-Policy violation any page reported (the policy is nginx's and the services') */
const violations: string[] = []
/** session tokens and SMS codes the page handled: none may appear in any service's or nginx's log */
const secrets: string[] = []
const timings: Record<string, number> = {}

async function watch(page: Page, name: string): Promise<Page> {
  page.on('pageerror', (err) => pageErrors.push(`${name}: ${err.message}`))
  page.on('console', (msg) => {
    if (/Content Security Policy/i.test(msg.text())) violations.push(`${name}: ${msg.text()}`)
  })
  await page.exposeFunction('__cspViolation', (v: string) => violations.push(`${name}: ${v}`))
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      const report = (window as unknown as { __cspViolation(v: string): void }).__cspViolation
      report(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} in ${e.sourceFile}:${e.lineNumber}`)
    })
  })
  page.on('dialog', (d) => void d.accept())
  return page
}

beforeAll(async () => {
  const t0 = Date.now()
  ;[stack, browser] = await Promise.all([webStack(), launchChromium()])
  timings.stackAndBrowserStartMs = Date.now() - t0
  context = await browser.newContext({ viewport: { width: 1280, height: 860 } })
})

afterAll(async () => {
  writeArtifact('timings.json', timings)
  await context?.close()
  await browser?.close()
  if (stack) {
    // tokens, codes and tickets the page handled must never reach a log
    const logs = stack.allLogs()
    await stopWebStack(stack)
    const leaked = secrets.filter((secret) => logs.includes(secret))
    expect(leaked, 'secrets found in the stack logs').toEqual([])
  }
})

describe.sequential('the demo page in Chromium, against the real stack', () => {
  it('nginx serves the page at /; a new user signs in with the code the dev SMS endpoint shows', async () => {
    tab1 = await watch(await context.newPage(), 'tab1')
    const res = await tab1.goto(stack.url)
    expect(res?.status()).toBe(200)
    await tab1.locator('[data-testid=login]').waitFor()

    const phone = newPhone()
    await tab1.fill('[data-testid=phone]', phone)
    await tab1.click('[data-testid=send-code]')
    const hint = tab1.locator('[data-testid=dev-hint]')
    await hint.waitFor()
    expect(await hint.textContent()).toContain(`/auth/dev/sms/${phone}`)
    expect(await hint.locator('a').getAttribute('href')).toBe(`/auth/dev/sms/${encodeURIComponent(phone)}`)
    const code = await tab1.inputValue('[data-testid=code]')
    expect(code).toMatch(/^[0-9]{6}$/)
    secrets.push(code)
    await screenshot(tab1, '01-login-dev-code')

    const t0 = Date.now()
    await tab1.click('[data-testid=sign-in]')
    await view.waitConnected(tab1)
    timings.signInToConnectedMs = Date.now() - t0
    expect(await view.replica(tab1)).toMatch(/^gateway-[1-3]$/)
    const token = (await tab1.evaluate(() => sessionStorage.getItem('herald.token'))) as string
    expect(token).toMatch(/^[0-9a-f-]{36}$/)
    // this tab's sessionStorage only: nothing on disk once the tab closes
    expect(await tab1.evaluate(() => Object.keys(localStorage))).toEqual([])
    secrets.push(token, stack.serviceToken)
    userId = (await tab1.textContent('[data-testid=my-user-id]')) ?? ''
    expect(userId).not.toBe('')
    // this very sign-in was announced to the account (account.login), found in the inbox
    await tab1.locator('[data-testid=notification]', { hasText: 'New sign-in to your account' }).waitFor()
  })

  it('a notification sent by the API appears live, with a toast and one more unread', async () => {
    const before = await view.badge(tab1)
    const t0 = Date.now()
    const id = await sendMessage(stack, userId, 'Order #1042 shipped', 'DHL 1234567890')
    await view.item(tab1, id).waitFor()
    timings.apiToBrowserMs = Date.now() - t0
    expect(await view.item(tab1, id).getAttribute('data-read')).toBe('false')
    expect(await view.badge(tab1)).toBe(before + 1)
    await tab1.locator('[data-testid=toast]', { hasText: 'Order #1042 shipped' }).waitFor()
    await screenshot(tab1, '02-live-notification')
  })

  it('a second tab is signed in too, lists it, and marking it read there drops the badge in the first', async () => {
    tab2 = await watch(await context.newPage(), 'tab2')
    await tab2.goto(stack.url)
    await view.waitConnected(tab2)
    // the page loads its list once the first welcome came (GET /inbox): not at the same instant
    const item = tab2.locator('[data-testid=notification]', { hasText: 'Order #1042 shipped' })
    await item.waitFor({ timeout: 5000 })
    expect(await view.titles(tab2)).toContain('Order #1042 shipped')
    const id = (await item.getAttribute('data-id')) as string
    const before = await view.badge(tab1)
    expect(await view.badge(tab2)).toBe(before)

    const t0 = Date.now()
    await item.locator('[data-testid=mark-read]').click()
    await tab1.locator(`[data-testid=notification][data-id="${id}"][data-read=true]`).waitFor()
    timings.readSyncAcrossTabsMs = Date.now() - t0
    await until(async () => (await view.badge(tab1)) === before - 1, 'badge drop in tab 1', 5000)
    expect(await view.badge(tab2)).toBe(before - 1)
    await screenshot(tab1, '03-read-in-other-tab')

    // and it is read for the server too
    const token = (await tab1.evaluate(() => sessionStorage.getItem('herald.token'))) as string
    const inbox = await api<{ items: { id: string; read: boolean }[] }>(stack, 'GET', '/inbox?limit=10', { token })
    expect(inbox.body.items.find((i) => i.id === id)?.read).toBe(true)
  })

  it('archiving in one tab takes it out of the other, the archived view lists it, delete removes it; counts follow', async () => {
    const id = await sendMessage(stack, userId, 'Weekly digest', 'three new posts')
    await view.item(tab2, id).waitFor()
    await view.item(tab1, id).waitFor()
    // listed is seen: the server hears so within a second, and the counts line says no new message
    await tab1.locator('[data-testid=inbox-counts]', { hasText: ' 0 new' }).waitFor({ timeout: 5000 })
    const counts = async (page: Page) => (await page.textContent('[data-testid=inbox-counts]')) ?? ''
    const archivedBefore = Number(/(\d+) archived/.exec(await counts(tab1))?.[1])

    await view.item(tab2, id).locator('[data-testid=state-archived]').click()
    await view.item(tab1, id).waitFor({ state: 'detached', timeout: 5000 })
    await tab1.locator('[data-testid=inbox-counts]', { hasText: `${archivedBefore + 1} archived` }).waitFor()
    await tab1.click('[data-testid=view-archived]')
    await view.item(tab1, id).waitFor()
    expect(await view.item(tab1, id).getAttribute('data-archived')).toBe('true')
    await screenshot(tab1, '03b-archived-view')

    await view.item(tab1, id).locator('[data-testid=state-deleted]').click()
    await view.item(tab1, id).waitFor({ state: 'detached', timeout: 5000 })
    await tab1.locator('[data-testid=inbox-counts]', { hasText: `${archivedBefore} archived` }).waitFor()
    const token = (await tab1.evaluate(() => sessionStorage.getItem('herald.token'))) as string
    const archived = await api<{ items: { id: string }[] }>(stack, 'GET', '/inbox?state=archived', { token })
    expect(archived.body.items.map((i) => i.id)).not.toContain(id)
    await tab1.click('[data-testid=view-inbox]')
    await tab1.locator('[data-testid=view-inbox][disabled]').waitFor()
  })

  it("the test panel sends a chat.message with a pasted service token to another user's client", async () => {
    const other = await loginByApi(stack, 'node client')
    secrets.push(other.token)
    const received: HeraldMessage[] = []
    const client: HeraldClient = createClient({ baseUrl: stack.url, WebSocket, getToken: () => other.token })
    client.on('message', (m) => received.push(m))
    client.connect()
    try {
      await until(() => client.status === 'connected', 'node client connected')
      // back to the first tab, as a user would (a hidden tab gets no animation frames)
      await tab1.bringToFront()
      await tab1.fill('[data-testid=service-token]', stack.serviceToken)
      await tab1.fill('[data-testid=to-user]', other.userId)
      await tab1.fill('[data-testid=chat-text]', 'Lunch at noon?')
      const t0 = Date.now()
      await tab1.click('[data-testid=send]')
      await tab1.locator('[data-testid=send-result]', { hasText: /Event web-.*: (queued|processing|done)/ }).waitFor()
      timings.chatEventAcceptedMs = Date.now() - t0
      await until(() => received.some((m) => m.kind === 'chat.message'), 'chat message at the other user')
      timings.chatEventToOtherUserMs = Date.now() - t0
      const chat = received.find((m) => m.kind === 'chat.message')
      expect(chat?.body).toBe('Lunch at noon?')
      expect(chat?.data).toMatchObject({ fromUserId: userId })
      // the token stays in this tab's sessionStorage only
      expect(await tab1.evaluate(() => sessionStorage.getItem('herald.serviceToken'))).toBe(stack.serviceToken)
      expect(await tab1.evaluate(() => localStorage.getItem('herald.serviceToken'))).toBeNull()
    } finally {
      client.stop()
    }
  })

  it('the gateway under the page is killed (SIGKILL): the page reconnects elsewhere and gets what was sent meanwhile', async () => {
    const kill = await killGatewayUnder(stack, tab1, userId, 'While you were away')
    timings.gatewayKillToReconnectingShownMs = kill.toReconnectingMs
    timings.gatewayKillToReconnectedMs = kill.toReconnectedMs
    timings.gatewayKillToCaughtUpMs = kill.toCaughtUpMs
    expect(kill.stateWhileSending).toBe('reconnecting')
    for (const id of kill.sent) await view.item(tab2, id).waitFor({ timeout: 15_000 })
    expect(Number(await tab1.textContent('[data-testid=reconnects]'))).toBeGreaterThanOrEqual(1)
    await screenshot(tab1, '04-reconnected-after-gateway-kill')
    const { killed, stateWhileSending } = kill
    writeArtifact('gateway-kill.json', { killed, stateWhileSending, now: await view.replica(tab1) })
    // bring the replica back for the rest of the story
    const n = Number(killed.replace('gateway-', ''))
    stack.proc('gateway', n).start()
    await stack.proc('gateway', n).waitReady()
  })

  it('the sessions panel lists this browser; sign out everywhere sends every tab back to the login', async () => {
    await tab1.bringToFront()
    const t0 = Date.now()
    const current = tab1.locator('[data-testid=session][data-current=true]')
    await current.waitFor()
    timings.sessionsShownMs = Date.now() - t0
    expect(await current.textContent()).toContain('Chrome on Linux')
    const token = (await tab1.evaluate(() => sessionStorage.getItem('herald.token'))) as string

    const t1 = Date.now()
    await tab1.click('[data-testid=logout-all]')
    await tab1.locator('[data-testid=login]').waitFor()
    timings.logoutAllToLoginMs = Date.now() - t1
    await tab2.locator('[data-testid=login]').waitFor()
    timings.logoutAllToOtherTabLoginMs = Date.now() - t1
    expect(await tab1.evaluate(() => sessionStorage.getItem('herald.token'))).toBeNull()
    expect((await api(stack, 'GET', '/auth/me', { token })).status).toBe(401)
    await screenshot(tab2, '05-signed-out-everywhere')
    expect(pageErrors).toEqual([])
  })
})

describe('the built SDK without a bundler', () => {
  it('/embed.html loads /sdk/herald-client.js with a plain <script type="module"> and the browser\'s WebSocket', async () => {
    const other = await loginByApi(stack, 'embed')
    secrets.push(other.token)
    const embed = await browser.newContext()
    try {
      await embed.addInitScript((token) => sessionStorage.setItem('herald.token', token), other.token)
      const page = await watch(await embed.newPage(), 'embed')
      const sdk = await page.request.get(`${stack.url}/sdk/herald-client.js`)
      expect(sdk.headers()['content-type']).toContain('javascript')
      await page.goto(`${stack.url}/embed.html`)
      await page.locator('#state', { hasText: /^connected \(gateway-[1-3]\)$/ }).waitFor()
      await sendMessage(stack, other.userId, 'Hello, no bundler')
      await page.locator('#out li', { hasText: 'Hello, no bundler' }).waitFor()
      await screenshot(page, '06-embed-without-bundler')
      expect(pageErrors).toEqual([])
    } finally {
      await embed.close()
    }
  })
})

describe('browser security headers', () => {
  it('/, /docs and /embed.html answer with CSP, nosniff, no framing and no referrer, and Chromium reports no CSP violation', async () => {
    const fresh = await browser.newContext()
    try {
      const page = await watch(await fresh.newPage(), 'headers')
      for (const path of ['/', '/docs/', '/embed.html']) {
        const res = await page.goto(`${stack.url}${path}`)
        const headers = res?.headers() ?? {}
        expect(headers['content-security-policy'], path).toMatch(/frame-ancestors 'none'/)
        expect(headers['content-security-policy'], path).toMatch(/script-src 'self'/)
        expect(headers['x-content-type-options'], path).toBe('nosniff')
        expect(headers['x-frame-options'], path).toBe('DENY')
        expect(headers['referrer-policy'], path).toBe('no-referrer')
        if (path === '/') await page.locator('[data-testid=login]').waitFor()
        if (path === '/docs/') await page.locator('.swagger-ui .info .title').waitFor()
        if (path === '/embed.html') await page.waitForLoadState('load')
      }
      const api = await page.request.get(`${stack.url}/v1/stats`)
      expect(api.headers()['content-security-policy']).toMatch(/^default-src 'none'/)
      // everything every page of this file did, the story above included
      expect(violations).toEqual([])
      expect(pageErrors).toEqual([])
    } finally {
      await fresh.close()
    }
  })
})
