import { ApiError, api, type User } from './api'
import { h } from './dom'
import { storage } from './storage'

/**
 * Sends a `chat.message` event through the public `/v1/events` API. There is no dev-only
 * shortcut: the page needs a service token with `events:write` (`pnpm stack` prints one),
 * kept in sessionStorage only.
 */
export function senderPanel(me: User): HTMLElement {
  // a password field: a pasted secret should not show on a shared screen
  const tokenInput = h('input', {
    id: 'service-token',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 'eyJhbGciOiJIUzI1NiIs…',
    'data-testid': 'service-token',
  })
  tokenInput.value = storage.serviceToken()
  tokenInput.addEventListener('change', () => storage.setServiceToken(tokenInput.value.trim()))
  const to = h('input', { id: 'to-user', required: true, value: me.id, 'data-testid': 'to-user' })
  const text = h('input', {
    id: 'chat-text',
    required: true,
    maxlength: 4000,
    value: 'Hello from the demo page',
    'data-testid': 'chat-text',
  })
  const result = h('p', { class: 'hint', role: 'status', 'data-testid': 'send-result' })
  const send = h('button', { type: 'submit', class: 'primary', 'data-testid': 'send' }, 'Send chat.message')

  const form = h(
    'form',
    { class: 'stack' },
    h('label', { for: 'service-token' }, 'Service token (events:write)'),
    tokenInput,
    h('p', { class: 'hint' }, 'pnpm stack prints one; pnpm run token --sub demo --scope events:write makes another.'),
    h(
      'label',
      { for: 'to-user' },
      'To user id ',
      h(
        'button',
        {
          type: 'button',
          class: 'link small',
          onclick: () => {
            to.value = me.id
          },
        },
        '(me)',
      ),
    ),
    to,
    h('label', { for: 'chat-text' }, 'Text'),
    text,
    send,
    result,
  )
  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    const serviceToken = tokenInput.value.trim()
    storage.setServiceToken(serviceToken)
    if (!serviceToken) {
      result.textContent = 'Paste a service token first.'
      return
    }
    send.disabled = true
    try {
      const res = await api.sendChat(serviceToken, {
        id: `web-${crypto.randomUUID()}`,
        fromUserId: me.id,
        toUserId: to.value.trim(),
        text: text.value,
      })
      result.textContent = `Event ${res.id}: ${res.status}.`
    } catch (err) {
      result.textContent =
        err instanceof ApiError && err.status === 401
          ? 'The service token was refused (401).'
          : err instanceof ApiError && err.status === 403
            ? 'The service token lacks the events:write scope (403).'
            : `Failed: ${(err as Error).message}`
    } finally {
      send.disabled = false
    }
  })

  return h(
    'section',
    { class: 'card' },
    h('header', { class: 'card-head' }, h('h2', {}, 'Send a test message')),
    h(
      'p',
      { class: 'muted small' },
      'Your user id: ',
      h('code', { 'data-testid': 'my-user-id' }, me.id),
      ' — give it to someone to receive their messages.',
    ),
    form,
  )
}
