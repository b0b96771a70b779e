import { join } from 'node:path'
import type { Stack } from '@herald/stack'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ARTIFACTS,
  api,
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
 * Device targeting and preferences on the demo page, in Chromium against the real stack: one
 * user signed in on two devices (two browser contexts, so two sessions). A message for one
 * session is pushed to that tab only and listed in both inboxes; exceptSessionId is not echoed
 * to the sender's tab; a kind set silent on the page is kept in the inbox without a toast, a
 * kind set off is not delivered, and the mandatory kind cannot be turned off.
 */
let stack: Stack
let browser: Browser
const contexts: BrowserContext[] = []
let tabA: Page
let tabB: Page
const tokens: Record<'A' | 'B', string> = { A: '', B: '' }
const sessions: Record<'A' | 'B', string> = { A: '', B: '' }
let userId: string
let phone: string
const pageErrors: string[] = []
const timings: Record<string, number> = {}

/** A browser context (a device) signed in with this token, on the demo page, connected. */
async function device(name: string, token: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } })
  contexts.push(context)
  await context.addInitScript((t) => sessionStorage.setItem('herald.token', t), token)
  const page = await context.newPage()
  page.on('pageerror', (err) => pageErrors.push(`${name}: ${err.message}`))
  await page.goto(stack.url)
  await view.waitConnected(page)
  return page
}

async function currentSession(token: string): Promise<string> {
  const res = await api<{ id: string; current: boolean }[]>(stack, 'GET', '/auth/sessions', { token })
  return res.body.find((s) => s.current)?.id as string
}

const item = (page: Page, text: string) => page.locator('[data-testid=notification]', { hasText: text })
const toast = (page: Page, text: string) => page.locator('[data-testid=toast]', { hasText: text })

/** Sends from the page's sender panel and waits for its result line. */
async function sendFromPage(page: Page, target: string, text: string, session?: string): Promise<string> {
  await page.bringToFront()
  await page.fill('[data-testid=service-token]', stack.serviceToken)
  await page.selectOption('[data-testid=send-target]', target)
  if (session) await page.selectOption('[data-testid=send-session]', session)
  await page.fill('[data-testid=chat-text]', text)
  await page.click('[data-testid=send]')
  const result = page.locator('[data-testid=send-result]', {
    hasText: /(Event|Message) .*: (queued|processing|done)\./,
  })
  await result.waitFor()
  return (await result.textContent()) as string
}

/** A plain message to the user; once it shows live in `page`, everything sent before it has been pushed there. */
async function barrier(page: Page, title: string): Promise<void> {
  const id = await sendMessage(stack, userId, title)
  await view.item(page, id).waitFor()
}

async function inboxBodies(token: string): Promise<Map<string, Record<string, unknown>>> {
  const res = await api<{ items: Record<string, unknown>[] }>(stack, 'GET', '/inbox?limit=50', { token })
  return new Map(res.body.items.map((i) => [i.body as string, i]))
}

beforeAll(async () => {
  // two sign-ins of one phone, a moment apart
  ;[stack, browser] = await Promise.all([webStack({ env: { OTP_RESEND_SECONDS: '1' } }), launchChromium()])
  phone = newPhone()
  const a = await loginByApi(stack, 'desktop', phone)
  await new Promise((r) => setTimeout(r, 1100))
  const b = await loginByApi(stack, 'laptop', phone)
  expect(b.userId).toBe(a.userId)
  userId = a.userId
  tokens.A = a.token
  tokens.B = b.token
  sessions.A = await currentSession(a.token)
  sessions.B = await currentSession(b.token)
  expect(sessions.A).not.toBe(sessions.B)
  tabA = await device('A', a.token)
  tabB = await device('B', b.token)
})

afterAll(async () => {
  writeArtifact('targeting.json', timings)
  for (const c of contexts) await c.close()
  await browser?.close()
  if (stack) await stopWebStack(stack)
})

describe.sequential('device targeting and preferences on the demo page (two devices of one user)', () => {
  it('"this device only": pushed live to that tab alone, listed in both inboxes and marked there', async () => {
    const t0 = Date.now()
    expect(await sendFromPage(tabA, 'this', 'Only on A')).toMatch(/: done\.$/)
    await item(tabA, 'Only on A').waitFor()
    timings.targetedSendToShownMs = Date.now() - t0
    await toast(tabA, 'Only on A').waitFor()
    expect(await item(tabA, 'Only on A').locator('[data-testid=target]').getAttribute('data-target')).toBe(
      'this-device',
    )
    await barrier(tabB, 'Barrier 1')
    expect(await item(tabB, 'Only on A').count()).toBe(0)
    expect(await toast(tabB, 'Only on A').count()).toBe(0)

    // B's inbox lists it, for session A
    expect((await inboxBodies(tokens.B)).get('Only on A')).toMatchObject({ sessionIds: [sessions.A] })
    await tabB.reload()
    await view.waitConnected(tabB)
    await item(tabB, 'Only on A').waitFor()
    expect(await item(tabB, 'Only on A').locator('[data-testid=target]').textContent()).toBe('sent to another device')
    await screenshot(tabB, 'targeting-01-listed-on-the-other-device')
  })

  it('"one of my sessions": the laptop sends to the desktop picked from its sessions list', async () => {
    await tabB.locator(`[data-testid=send-session] option[value="${sessions.A}"]`).waitFor({ state: 'attached' })
    await sendFromPage(tabB, 'session', 'Picked from the list', sessions.A)
    await item(tabA, 'Picked from the list').waitFor()
    await barrier(tabB, 'Barrier 2')
    expect(await item(tabB, 'Picked from the list').count()).toBe(0)
  })

  it('"all but this device" (exceptSessionId): the other tab gets it live, the sender tab is not echoed', async () => {
    await sendFromPage(tabA, 'others', 'Not echoed to A')
    await item(tabB, 'Not echoed to A').waitFor()
    await toast(tabB, 'Not echoed to A').waitFor()
    expect(await item(tabB, 'Not echoed to A').locator('[data-testid=target]').getAttribute('data-target')).toBe(
      'all-but-one-device',
    )
    await barrier(tabA, 'Barrier 3')
    expect(await item(tabA, 'Not echoed to A').count()).toBe(0)
    expect((await inboxBodies(tokens.A)).get('Not echoed to A')).toMatchObject({ exceptSessionId: sessions.A })
    await tabA.reload()
    await view.waitConnected(tabA)
    await item(tabA, 'Not echoed to A').waitFor()
    expect(await item(tabA, 'Not echoed to A').locator('[data-testid=target]').textContent()).toBe(
      'sent from this device',
    )
  })

  it('chat.message set silent on the page: no live toast, but in the inbox after a reload', async () => {
    await tabA.bringToFront()
    const row = tabA.locator('[data-testid=preference][data-kind="chat.message"] select')
    await row.selectOption('silent')
    await tabA.click('[data-testid=save-preferences]')
    await tabA.locator('[data-testid=preferences-result]', { hasText: 'Saved.' }).waitFor()
    const saved = await api<{ kinds: Record<string, string> }>(stack, 'GET', '/inbox/preferences', {
      token: tokens.B,
    })
    expect(saved.body.kinds).toEqual({ 'chat.message': 'silent' })

    // the default sender: a chat.message event, through the queue and the worker
    await sendFromPage(tabA, 'all', 'Silent one')
    await until(async () => (await inboxBodies(tokens.A)).has('Silent one'), 'the silent message in the inbox')
    await barrier(tabA, 'Barrier 4')
    expect(await item(tabA, 'Silent one').count()).toBe(0)
    expect(await toast(tabA, 'Silent one').count()).toBe(0)
    await tabA.reload()
    await view.waitConnected(tabA)
    await item(tabA, 'Silent one').waitFor()
    // the choice is the user's: the page shows it after the reload, and on the other device
    expect(await row.inputValue()).toBe('silent')
    await tabB.reload()
    await view.waitConnected(tabB)
    await until(
      async () =>
        (await tabB.locator('[data-testid=preference][data-kind="chat.message"] select').inputValue()) === 'silent',
      'the other device shows silent',
    )
  })

  it('chat.message set off: nothing arrives, and the receipt says muted', async () => {
    await tabA.bringToFront()
    await tabA.locator('[data-testid=preference][data-kind="chat.message"] select').selectOption('off')
    await tabA.click('[data-testid=save-preferences]')
    await tabA.locator('[data-testid=preferences-result]', { hasText: 'Saved.' }).waitFor()
    const result = await sendFromPage(tabA, 'all', 'Muted one')
    const eventId = /Event (\S+):/.exec(result)?.[1] as string
    let messageIds: string[] = []
    await until(async () => {
      const ev = await api<{ status: string; messageIds: string[] }>(stack, 'GET', `/v1/events/${eventId}`, {
        token: stack.serviceToken,
      })
      messageIds = ev.body.messageIds
      return ev.body.status === 'done'
    }, 'the event processed')
    const receipt = await api<{ muted?: boolean }>(stack, 'GET', `/v1/messages/${messageIds[0]}`, {
      token: stack.serviceToken,
    })
    expect(receipt.body.muted).toBe(true)
    await barrier(tabA, 'Barrier 5')
    expect(await item(tabA, 'Muted one').count()).toBe(0)
    expect((await inboxBodies(tokens.A)).has('Muted one')).toBe(false)
    await screenshot(tabA, 'targeting-02-preferences')
  })

  it('account.login is mandatory: its choice is disabled on the page, and the API refuses to mute it', async () => {
    const row = tabA.locator('[data-testid=preference][data-kind="account.login"]')
    expect(await row.locator('select').isDisabled()).toBe(true)
    expect(await row.textContent()).toContain('always delivered')
    const panel = tabA.locator('section.card', { has: tabA.locator('[data-testid=preferences]') })
    await panel.screenshot({ path: join(ARTIFACTS, 'targeting-03-preferences-panel.png'), animations: 'disabled' })
    const res = await api<{ code: string }>(stack, 'PUT', '/inbox/preferences', {
      token: tokens.A,
      body: { kinds: { 'account.login': 'off' } },
    })
    expect(res.status).toBe(400)
    expect(res.body.code).toBe('KIND_NOT_MUTABLE')
    // a new sign-in still reaches the page live
    await new Promise((r) => setTimeout(r, 1100))
    await loginByApi(stack, 'a third device', phone)
    await toast(tabA, 'Signed in on a third device').waitFor()
    expect(pageErrors).toEqual([])
  })
})
