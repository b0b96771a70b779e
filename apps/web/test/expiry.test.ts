import type { Stack } from '@herald/stack'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  api,
  launchChromium,
  loginByApi,
  screenshot,
  sendMessage,
  stopWebStack,
  view,
  webStack,
  writeArtifact,
} from './harness'

/**
 * Expiry and retraction on the demo page, in Chromium against the real stack: one user's
 * session open in two tabs. A message sent from the panel with "expires in" leaves the list and
 * the toasts of both tabs when its time passes; one retracted with the panel's Retract button
 * (`DELETE /v1/messages/:id`) leaves both at once; neither comes back after a reload. Over the
 * WebSocket, and over the SSE fallback.
 */
let stack: Stack
let browser: Browser
let context: BrowserContext
let tabA: Page
let tabB: Page
let token: string
let userId: string
const pageErrors: string[] = []
const timings: Record<string, number> = {}
const ANCHOR = 'Stays in the inbox'

const item = (page: Page, text: string) => page.locator('[data-testid=notification]', { hasText: text })
const toast = (page: Page, text: string) => page.locator('[data-testid=toast]', { hasText: text })

async function tab(name: string): Promise<Page> {
  const page = await context.newPage()
  page.on('pageerror', (err) => pageErrors.push(`${name}: ${err.message}`))
  await page.goto(stack.url)
  await view.waitConnected(page)
  return page
}

/** Sends from tab A's panel; "this device only" is the session both tabs share (`POST /v1/messages`). */
async function sendFromPanel(target: 'this' | 'all', text: string, ttl?: number): Promise<string> {
  await tabA.fill('[data-testid=service-token]', stack.serviceToken)
  await tabA.selectOption('[data-testid=send-target]', target)
  await tabA.fill('[data-testid=chat-text]', text)
  await tabA.fill('[data-testid=send-ttl]', ttl === undefined ? '' : String(ttl))
  await tabA.click('[data-testid=send]')
  const result = tabA.locator('[data-testid=send-result]', {
    hasText: /(Event|Message) \S+: (queued|processing|done)\./,
  })
  await result.waitFor()
  return /(?:Event|Message) (\S+):/.exec((await result.textContent()) as string)?.[1] as string
}

async function listed(text: string): Promise<{ id: string; expiresAt?: string } | undefined> {
  const res = await api<{ items: { id: string; body: string; expiresAt?: string }[] }>(
    stack,
    'GET',
    '/inbox?limit=50',
    { token },
  )
  return res.body.items.find((i) => i.body === text)
}

/** Waits until `text` is off the list of every tab; returns when each tab let go of it (ms since the epoch). */
async function goneFromBoth(text: string, timeout = 10_000): Promise<number[]> {
  return Promise.all(
    [tabA, tabB].map(async (page) => {
      await item(page, text).waitFor({ state: 'detached', timeout })
      return Date.now()
    }),
  )
}

/** Reloads both tabs and waits for their first inbox page (the anchor message is on it). */
async function reloadBoth(): Promise<void> {
  for (const page of [tabA, tabB]) {
    await page.reload()
    await view.waitConnected(page)
    await item(page, ANCHOR).waitFor()
  }
}

beforeAll(async () => {
  browser = await launchChromium()
})

afterAll(async () => {
  writeArtifact('expiry.json', timings)
  await browser?.close()
})

/** The retract frame reaches the page over either transport: a WebSocket, or SSE behind an nginx that refuses upgrades. */
describe.sequential.each(['websocket', 'sse'] as const)(
  'expiry and retraction on the demo page over %s (two tabs of one session)',
  (transport) => {
    beforeAll(async () => {
      stack = await webStack({ refuseWebSockets: transport === 'sse' })
      const user = await loginByApi(stack, 'desktop')
      token = user.token
      userId = user.userId
      await sendMessage(stack, userId, ANCHOR)
      // two tabs of one session: a duplicated tab keeps the session token of the one it came from
      context = await browser.newContext({ viewport: { width: 1280, height: 1000 } })
      await context.addInitScript((t) => sessionStorage.setItem('herald.token', t), token)
      tabA = await tab('A')
      tabB = await tab('B')
      for (const page of [tabA, tabB]) {
        await item(page, ANCHOR).waitFor()
        expect(await view.transport(page)).toBe(transport)
      }
    })

    afterAll(async () => {
      await context?.close()
      if (stack) await stopWebStack(stack)
    })

    it('"expires in 2 s": shown in both tabs, off both lists and toasts within 2 s of its expiry, gone after a reload', async () => {
      const text = 'Gone in two seconds'
      const id = await sendFromPanel('this', text, 2)
      await Promise.all([tabA, tabB].map((page) => view.item(page, id).waitFor()))
      await toast(tabB, text).waitFor()
      const expiresAt = Date.parse((await listed(text))?.expiresAt ?? 'no expiresAt in GET /inbox')
      expect(expiresAt).toBeGreaterThan(Date.now())
      expect(await view.item(tabA, id).locator('[data-testid=expires]').count()).toBe(1)
      await screenshot(tabA, `expiry-01-expires-in-two-seconds-${transport}`)

      const gone = await goneFromBoth(text)
      timings[`${transport}.expiredToGoneMs`] = Math.max(...gone) - expiresAt
      for (const at of gone) {
        // not before its time (the tabs share this machine's clock), and soon after it
        expect(at).toBeGreaterThanOrEqual(expiresAt - 100)
        expect(at - expiresAt).toBeLessThan(2000)
      }
      for (const page of [tabA, tabB]) expect(await toast(page, text).count()).toBe(0)
      expect(await listed(text)).toBeUndefined()
      await reloadBoth()
      for (const page of [tabA, tabB]) expect(await item(page, text).count()).toBe(0)
    })

    it('Retract (DELETE /v1/messages/:id): the panel shows "retracted", the message leaves both tabs at once, gone after a reload', async () => {
      const text = 'Taken back by the sender'
      const id = await sendFromPanel('this', text)
      await Promise.all([tabA, tabB].map((page) => view.item(page, id).waitFor()))
      await toast(tabB, text).waitFor()
      expect(await view.item(tabA, id).locator('[data-testid=expires]').count()).toBe(0)

      const t0 = Date.now()
      await tabA.click('[data-testid=retract]')
      await tabA.locator('[data-testid=retract-result]', { hasText: `Retract ${id}: retracted.` }).waitFor()
      timings[`${transport}.retractToAnsweredMs`] = Date.now() - t0
      const gone = await goneFromBoth(text, 5000)
      timings[`${transport}.retractToGoneMs`] = Math.max(...gone) - t0
      for (const page of [tabA, tabB]) expect(await toast(page, text).count()).toBe(0)
      expect(await tabA.locator('[data-testid=retract]').isHidden()).toBe(true)
      await screenshot(tabA, `expiry-02-retracted-${transport}`)
      expect(await listed(text)).toBeUndefined()
      await reloadBoth()
      for (const page of [tabA, tabB]) expect(await item(page, text).count()).toBe(0)
    })

    it('"Every device" (a chat.message event) with "expires in 3 s": its message expires in both tabs too', async () => {
      const text = 'An event that expires'
      await sendFromPanel('all', text, 3)
      await Promise.all([tabA, tabB].map((page) => item(page, text).waitFor()))
      expect(await tabA.locator('[data-testid=retract]').isHidden()).toBe(true)
      const expiresAt = Date.parse((await listed(text))?.expiresAt ?? 'no expiresAt in GET /inbox')
      const gone = await goneFromBoth(text)
      for (const at of gone) expect(at - expiresAt).toBeLessThan(2000)
      await reloadBoth()
      for (const page of [tabA, tabB]) expect(await item(page, text).count()).toBe(0)
      expect(pageErrors).toEqual([])
    })
  },
)
