import { createClient } from '@herald/client'
import { api, type User } from './api'
import { connectionViews } from './connection'
import { h } from './dom'
import { NotificationList } from './notifications'
import { preferencesPanel } from './preferences'
import { pushPanel } from './push'
import { senderPanel } from './sender'
import { sessionsPanel } from './sessions'
import { storage } from './storage'
import { dismissToasts, toast } from './toasts'

export interface AppOptions {
  token: string
  user: User
  /** the session is over (signed out here or elsewhere, revoked, expired) */
  onSignedOut(notice?: string): void
}

function bellIcon(): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg'
  const svg = document.createElementNS(ns, 'svg')
  svg.setAttribute('viewBox', '0 0 24 24')
  svg.setAttribute('aria-hidden', 'true')
  const path = document.createElementNS(ns, 'path')
  path.setAttribute(
    'd',
    'M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z',
  )
  svg.append(path)
  return svg
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
  const sender = senderPanel(user, () => client.sessionId)
  const sessions = sessionsPanel(token, () => signedOut('You signed out everywhere.'), sender.setSessions)
  const preferences = preferencesPanel(client)
  const push = pushPanel(() => storage.token())

  const reload = () =>
    notifications.reload().catch((err: unknown) => toast('Could not load notifications', String(err), 'error'))
  let loaded = false
  client.on('connected', () => {
    // loaded after the first welcome, so anything written before is in the page and anything after arrives live
    if (!loaded) {
      loaded = true
      void reload()
      void preferences.load()
      void push.load()
    }
  })
  client.on('gap', () => void reload())
  client.on('message', (m) => {
    if (notifications.add(m)) toast(m.title, m.body, m.kind, m.id)
    preferences.see(m.kind)
    if (m.kind === 'account.login') sessions.refresh()
  })
  client.on('read', ({ ids }) => {
    if (!notifications.applyRead(ids)) void reload()
  })
  // taken back by the sender, or expired: gone from the list and the toasts, in every tab
  client.on('retract', ({ ids }) => {
    notifications.remove(ids)
    dismissToasts(ids)
  })
  client.on('state', (e) => {
    // read is followed above; the rest: seen, unread, archived, unarchived, deleted on another device
    if (e.state !== 'read' && !notifications.applyState(e)) void reload()
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
      h('div', { class: 'bell', title: 'Unread notifications' }, bellIcon(), badge),
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
      h('aside', { class: 'side' }, connection.card, sender.el, preferences.el, push.el, sessions.el),
    ),
  )
  client.connect()

  function teardown() {
    done = true
    client.stop()
  }
  return teardown
}
