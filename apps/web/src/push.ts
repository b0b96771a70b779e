import { ApiError, api } from './api'
import { h } from './dom'

/**
 * "Notify me when the page is closed": registers the service worker (/sw.js), subscribes
 * this browser to Web Push with the server's VAPID key and registers the subscription
 * (POST /inbox/push-subscriptions); the button undoes it. Hidden where the browser has no
 * Push API, explains itself where the server has Web Push off.
 */
export function pushPanel(token: () => string | null): { el: HTMLElement; load(): Promise<void> } {
  const status = h('p', { class: 'hint', role: 'status', 'data-testid': 'push-status' })
  const button = h('button', { type: 'button', class: 'secondary', 'data-testid': 'push-toggle' }, 'Enable')
  const el = h('section', { class: 'card', 'data-testid': 'push' }, h('h2', {}, 'Push when offline'), status, button)
  let key: string | null = null
  let subscription: PushSubscription | null = null

  const show = () => {
    button.textContent = subscription ? 'Disable' : 'Enable'
    status.textContent = subscription
      ? 'This browser gets a notification for messages that arrive while no herald tab is open.'
      : 'Get a system notification for messages that arrive while no herald tab is open.'
  }

  const registration = () => navigator.serviceWorker.register('/sw.js')

  const load = async () => {
    if (!('serviceWorker' in navigator) || !('PushManager' in window)) {
      el.hidden = true
      return
    }
    try {
      key = (await api.pushKey(token() ?? '')).publicKey
    } catch (err) {
      button.disabled = true
      status.textContent =
        err instanceof ApiError && err.status === 404 ? 'Web Push is off on this server.' : 'Push: unavailable.'
      return
    }
    subscription = await (await registration()).pushManager.getSubscription()
    show()
  }

  button.onclick = async () => {
    button.disabled = true
    try {
      if (subscription) {
        await api.pushUnsubscribe(token() ?? '', subscription.endpoint).catch(() => {})
        await subscription.unsubscribe()
        subscription = null
      } else if (key) {
        if ((await Notification.requestPermission()) !== 'granted') {
          status.textContent = 'Notifications are blocked for this site.'
          return
        }
        const reg = await registration()
        subscription = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key })
        await api.pushSubscribe(token() ?? '', subscription.toJSON())
      }
      show()
    } catch (err) {
      status.textContent = `Push: ${(err as Error).message}`
    } finally {
      button.disabled = false
    }
  }
  return { el, load }
}
