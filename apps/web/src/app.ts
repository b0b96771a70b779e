import { createClient } from '@herald/client'
import { api, type User } from './api'
import { connectionViews } from './connection'
import { h } from './dom'
import { NotificationList } from './notifications'
import { senderPanel } from './sender'
import { sessionsPanel } from './sessions'
import { storage } from './storage'
import { toast } from './toasts'

export interface AppOptions {
  token: string
  user: User
  /** the session is over (signed out here or elsewhere, revoked, expired) */
  onSignedOut(notice?: string): void
}

/** The signed-in page. Returns its teardown, which stops the client. */
export function mountApp(root: HTMLElement, opts: AppOptions): () => void {
  const { token, user } = opts
  let done = false
  const signedOut = (notice?: string) => {
    if (done) return
    teardown()
    opts.onSignedOut(notice)
  }

  const client = createClient({
    getToken: () => storage.token(),
    onAuthError: () => signedOut('Your session has ended. Sign in again.'),
  })

  const badge = h('span', { class: 'badge', 'data-testid': 'badge', 'data-count': '0' }, '0')
  const notifications = new NotificationList(client, (count) => {
    badge.textContent = count > 99 ? '99+' : String(count)
    badge.dataset.count = String(count)
    badge.hidden = count === 0
    document.title = count > 0 ? `(${count}) herald` : 'herald'
  })
  const connection = connectionViews(client)
  const sessions = sessionsPanel(token, () => signedOut('You signed out everywhere.'))

  const reload = () =>
    notifications.reload().catch((err: unknown) => toast('Could not load notifications', String(err), 'error'))
  let loaded = false
  client.on('connected', () => {
    // loaded after the first welcome, so anything written before is in the page and anything after arrives live
    if (!loaded) {
      loaded = true
      void reload()
    }
  })
  client.on('gap', () => void reload())
  client.on('message', (m) => {
    if (notifications.add(m)) toast(m.title, m.body, m.kind)
    if (m.kind === 'account.login') sessions.refresh()
  })
  client.on('read', ({ ids }) => {
    if (!notifications.applyRead(ids)) void reload()
  })

  const signOut = async () => {
    await api.logout(token).catch(() => {})
    storage.clearToken()
    signedOut()
  }

  root.replaceChildren(
    h(
      'header',
      { class: 'topbar' },
      h('div', { class: 'brand' }, h('span', { class: 'logo' }, 'h'), 'herald'),
      h('div', { class: 'bell', title: 'Unread notifications' }, h('span', { 'aria-hidden': 'true' }, '🔔'), badge),
      connection.pill,
      h('div', { class: 'spacer' }),
      h(
        'div',
        { class: 'who' },
        h('strong', { 'data-testid': 'nickname' }, user.nickname),
        h('span', { class: 'muted' }, user.phone),
      ),
      h('button', { type: 'button', class: 'secondary', 'data-testid': 'sign-out', onclick: signOut }, 'Sign out'),
    ),
    h(
      'main',
      { class: 'layout' },
      notifications.el,
      h('aside', { class: 'side' }, connection.card, senderPanel(user), sessions.el),
    ),
  )
  client.connect()

  function teardown() {
    done = true
    client.stop()
  }
  return teardown
}
