import { ApiError, api, type SessionView } from './api'
import { fill, h, timeAgo } from './dom'

/** GET /auth/sessions, revoke one, sign out everywhere; `onSessions` gets every list it loads. */
export function sessionsPanel(
  token: string,
  onSignedOutEverywhere: () => void,
  onSessions: (sessions: readonly SessionView[]) => void = () => {},
): { el: HTMLElement; refresh(): void } {
  const list = h('ul', { class: 'sessions', 'data-testid': 'sessions' })
  const error = h('p', { class: 'form-error', role: 'alert' })

  const refresh = async () => {
    error.textContent = ''
    try {
      const sessions = await api.sessions(token)
      sessions.sort((a, b) => Number(b.current) - Number(a.current) || b.lastSeenAt.localeCompare(a.lastSeenAt))
      fill(list, ...sessions.map(row))
      onSessions(sessions)
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) error.textContent = `Sessions: ${(err as Error).message}`
    }
  }

  const row = (s: SessionView) =>
    h(
      'li',
      { 'data-testid': 'session', 'data-current': String(s.current) },
      h(
        'div',
        {},
        h('strong', {}, s.device || 'unknown device'),
        s.current ? h('span', { class: 'tag tag-ok' }, 'this browser') : null,
        h('div', { class: 'muted small' }, `signed in ${timeAgo(s.createdAt)} · last active ${timeAgo(s.lastSeenAt)}`),
      ),
      s.current
        ? null
        : h(
            'button',
            {
              type: 'button',
              class: 'link danger',
              onclick: async () => {
                await api.revokeSession(token, s.id).catch(() => {})
                await refresh()
              },
            },
            'Sign out',
          ),
    )

  const everywhere = h(
    'button',
    {
      type: 'button',
      class: 'danger',
      'data-testid': 'logout-all',
      onclick: async () => {
        if (!confirm('Sign out of herald on every device, including this one?')) return
        try {
          await api.logoutAll(token)
        } catch {}
        onSignedOutEverywhere()
      },
    },
    'Sign out everywhere',
  )

  const el = h(
    'section',
    { class: 'card' },
    h(
      'header',
      { class: 'card-head' },
      h('h2', {}, 'Sessions'),
      h('button', { type: 'button', class: 'link', onclick: () => void refresh() }, 'Refresh'),
    ),
    list,
    error,
    everywhere,
  )
  void refresh()
  return { el, refresh: () => void refresh() }
}
