import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from './harness'

const SW = readFileSync(new URL('../public/sw.js', import.meta.url), 'utf8')

/**
 * The demo's service worker in real Chromium, with no push service: a synthetic push event
 * through the DevTools protocol (ServiceWorker.deliverPushMessage), as the browser raises it
 * once a push service has delivered and the payload is decrypted.
 */
describe('the service worker (public/sw.js)', () => {
  let server: Server
  let origin: string
  let browser: Browser
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/sw.js') {
        res.setHeader('content-type', 'text/javascript')
        return res.end(SW)
      }
      res.setHeader('content-type', 'text/html')
      res.end('<!doctype html><title>herald</title><p>app</p>')
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    // http://127.0.0.1 is a secure context: service workers and notifications are allowed
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    browser = await launchChromium()
  })
  afterAll(async () => {
    await browser?.close()
    server.closeAllConnections()
    await new Promise<void>((r) => server.close(() => r()))
  })

  it('shows a pushed message as a notification (title, body, one per message id)', async () => {
    const context = await browser.newContext()
    await context.grantPermissions(['notifications'], { origin })
    const page = await context.newPage()
    const cdp = await context.newCDPSession(page)
    const registered = new Promise<string>((resolve) => {
      cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => {
        const reg = e.registrations.find((r) => r.scopeURL === `${origin}/` && !r.isDeleted)
        if (reg) resolve(reg.registrationId)
      })
    })
    await cdp.send('ServiceWorker.enable')
    await page.goto(`${origin}/`)
    await page.evaluate(async () => {
      await navigator.serviceWorker.register('/sw.js')
      await navigator.serviceWorker.ready
    })
    const registrationId = await registered
    const push = (data: object) =>
      cdp.send('ServiceWorker.deliverPushMessage', { origin, registrationId, data: JSON.stringify(data) })
    await push({ id: 'm_1.p0', kind: 'chat.message', title: 'Ann', body: 'See you at 6?' })
    await push({ id: 'm_1.p0', kind: 'chat.message', title: 'Ann', body: 'See you at 6?' })
    await push({ id: 'm_2.p0', kind: 'order.shipped', title: 'Parcel shipped', body: 'Order 42 is on its way' })
    const shown = await page.waitForFunction(async () => {
      const reg = await navigator.serviceWorker.ready
      const list = await reg.getNotifications()
      return list.length >= 2 ? list.map((n) => ({ title: n.title, body: n.body, tag: n.tag })) : null
    })
    const list = (await shown.jsonValue()) as { title: string; body: string; tag: string }[]
    expect(list.sort((a, b) => a.tag.localeCompare(b.tag))).toEqual([
      { title: 'Ann', body: 'See you at 6?', tag: 'm_1.p0' },
      { title: 'Parcel shipped', body: 'Order 42 is on its way', tag: 'm_2.p0' },
    ])
    await context.close()
  })

  it('on a click closes the notification and goes to the open tab of the app, else opens one', async () => {
    const context = await browser.newContext()
    await context.grantPermissions(['notifications'], { origin })
    const page = await context.newPage()
    await page.goto(`${origin}/`)
    await page.evaluate(async () => {
      await navigator.serviceWorker.register('/sw.js')
      await navigator.serviceWorker.ready
    })
    const sw = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker'))
    // A synthetic notificationclick, raised in the worker: Chromium grants focus() and
    // openWindow() only to a real click on a system notification, which no protocol can make,
    // so what is checked is the notification closed and which of the two the worker asked for.
    const click = () =>
      sw.evaluate(async () => {
        // the worker's globals (this file is typed for a page, not a worker)
        const scope = self as unknown as { registration: ServiceWorkerRegistration; dispatchEvent(e: Event): boolean }
        const NotificationEvent = (
          globalThis as unknown as {
            NotificationEvent: new (type: string, init: { notification: Notification }) => Event
          }
        ).NotificationEvent
        await scope.registration.showNotification('Ann', { body: 'See you at 6?', tag: 'm_1.p0' })
        const [shown] = await scope.registration.getNotifications()
        const event = new NotificationEvent('notificationclick', { notification: shown as Notification })
        const waited: Promise<unknown>[] = []
        Object.defineProperty(event, 'waitUntil', { value: (p: Promise<unknown>) => waited.push(p) })
        scope.dispatchEvent(event)
        const [outcome] = await Promise.allSettled(waited)
        return {
          asked: outcome?.status === 'rejected' ? String(outcome.reason) : 'done',
          left: (await scope.registration.getNotifications()).length,
        }
      })
    expect(await click()).toEqual({ asked: expect.stringMatching(/focus a window/), left: 0 })
    await page.close()
    expect(await click()).toEqual({ asked: expect.stringMatching(/open a window/), left: 0 })
    await context.close()
  })
})
