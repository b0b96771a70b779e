// herald's service worker: shows a Web Push message (the notifier worker's payload: id, kind,
// title, body) as a notification, and on a click focuses a tab of the app or opens one.
self.addEventListener('push', (event) => {
  let msg = {}
  try {
    msg = event.data ? event.data.json() : {}
  } catch {
    msg = { body: event.data ? event.data.text() : '' }
  }
  const title = typeof msg.title === 'string' && msg.title ? msg.title : 'herald'
  event.waitUntil(
    self.registration.showNotification(title, {
      body: typeof msg.body === 'string' ? msg.body : '',
      // one notification per message: a message pushed twice replaces itself
      tag: typeof msg.id === 'string' ? msg.id : undefined,
      data: { id: msg.id, kind: msg.kind },
    }),
  )
})

self.addEventListener('notificationclick', (event) => {
  event.notification.close()
  const app = new URL('./', self.registration.scope).href
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((tabs) => {
      const tab = tabs.find((c) => c.url.startsWith(app))
      return tab ? tab.focus() : self.clients.openWindow(app)
    }),
  )
})
