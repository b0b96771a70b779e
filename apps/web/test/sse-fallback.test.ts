import type { Stack } from '@herald/stack'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  killGatewayUnder,
  launchChromium,
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
 * The demo page in Chromium behind an nginx that refuses every WebSocket upgrade (403 on
 * /ws): the client falls back to Server-Sent Events on its own, and everything the page does
 * still works — live messages, read sync across tabs, and a gateway killed under it.
 */
let stack: Stack
let browser: Browser
let context: BrowserContext
let tab1: Page
let tab2: Page
let userId: string
const pageErrors: string[] = []
const timings: Record<string, number> = {}

beforeAll(async () => {
  ;[stack, browser] = await Promise.all([webStack({ refuseWebSockets: true }), launchChromium()])
  context = await browser.newContext({ viewport: { width: 1280, height: 860 } })
})

afterAll(async () => {
  writeArtifact('sse-fallback.json', timings)
  await context?.close()
  await browser?.close()
  if (stack) await stopWebStack(stack)
})

async function open(name: string): Promise<Page> {
  const page = await context.newPage()
  page.on('pageerror', (err) => pageErrors.push(`${name}: ${err.message}`))
  page.on('dialog', (d) => void d.accept())
  await page.goto(stack.url)
  return page
}

describe.sequential('the demo page with WebSockets refused at nginx', () => {
  it('signs in and connects over SSE, and shows it', async () => {
    const ws = await fetch(`${stack.url}/ws`)
    expect(ws.status).toBe(403)
    tab1 = await open('tab1')
    await tab1.fill('[data-testid=phone]', newPhone())
    await tab1.click('[data-testid=send-code]')
    await until(async () => /^[0-9]{6}$/.test(await tab1.inputValue('[data-testid=code]')), 'the dev code')
    const t0 = Date.now()
    await tab1.click('[data-testid=sign-in]')
    await view.waitConnected(tab1)
    timings.signInToConnectedOverSseMs = Date.now() - t0
    expect(await view.transport(tab1)).toBe('sse')
    expect(await tab1.textContent('[data-testid=transport]')).toContain('Server-Sent Events')
    userId = (await tab1.textContent('[data-testid=my-user-id]')) ?? ''
    expect(userId).not.toBe('')
  })

  it('receives a message sent by the API live', async () => {
    const t0 = Date.now()
    const id = await sendMessage(stack, userId, 'Order #7 shipped over SSE')
    await view.item(tab1, id).waitFor()
    timings.apiToBrowserOverSseMs = Date.now() - t0
    expect(await view.item(tab1, id).getAttribute('data-read')).toBe('false')
    await screenshot(tab1, 'sse-01-live')
  })

  it('marks read in a second tab and the first follows', async () => {
    tab2 = await open('tab2')
    await view.waitConnected(tab2)
    expect(await view.transport(tab2)).toBe('sse')
    const item = tab2.locator('[data-testid=notification]', { hasText: 'Order #7 shipped over SSE' })
    const id = (await item.getAttribute('data-id')) as string
    const before = await view.badge(tab1)
    const t0 = Date.now()
    await item.locator('[data-testid=mark-read]').click()
    await tab1.locator(`[data-testid=notification][data-id="${id}"][data-read=true]`).waitFor()
    timings.readSyncAcrossTabsOverSseMs = Date.now() - t0
    await until(async () => (await view.badge(tab1)) === before - 1, 'badge drop in tab 1', 5000)
  })

  it('a gateway drained under the page (SIGTERM) ends the stream with 1012: the page reconnects elsewhere at once', async () => {
    await tab1.bringToFront()
    const replica = (await view.replica(tab1)) as string
    const n = Number(replica.replace('gateway-', ''))
    const t0 = Date.now()
    const exited = stack.proc('gateway', n).stop('SIGTERM')
    await until(async () => {
      const r = await view.replica(tab1)
      return (await view.state(tab1)) === 'connected' && r !== replica
    }, 'tab 1 reconnected to another replica after the drain')
    timings.gatewayDrainToReconnectedOverSseMs = Date.now() - t0
    await exited
    expect(await tab1.textContent('[data-testid=last-close]')).toContain('1012')
    const id = await sendMessage(stack, userId, 'After the drain')
    await view.item(tab1, id).waitFor()
    stack.proc('gateway', n).start()
    await stack.proc('gateway', n).waitReady()
  })

  it('a gateway killed under the page (SIGKILL): it resumes on another replica with nothing lost or doubled', async () => {
    await tab1.bringToFront()
    const kill = await killGatewayUnder(stack, tab1, userId, 'Sent while the stream was down')
    timings.gatewayKillToReconnectedOverSseMs = kill.toReconnectedMs
    timings.gatewayKillToCaughtUpOverSseMs = kill.toCaughtUpMs
    expect(await view.transport(tab1)).toBe('sse')
    for (const id of kill.sent) await view.item(tab2, id).waitFor({ timeout: 15_000 })
    await screenshot(tab1, 'sse-02-after-gateway-kill')
    expect(pageErrors).toEqual([])
  })
})
