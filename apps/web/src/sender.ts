import { ApiError, api, type Retraction, type SessionView, type TargetedMessage, type User } from './api'
import { fill, h } from './dom'
import { storage } from './storage'

/** Which devices get it: every one (the chat.message event), or chosen by session (`POST /v1/messages`). */
type Target = 'all' | 'this' | 'others' | 'session'

const TARGETS: [Target, string][] = [
  ['all', 'Every device'],
  ['this', 'This device only'],
  ['others', 'All but this device'],
  ['session', 'One of my sessions…'],
]

export interface SenderPanel {
  el: HTMLElement
  /** the signed-in user's sessions (the sessions panel's list), for "one of my sessions" */
  setSessions(sessions: readonly SessionView[]): void
}

/** How the answer to `DELETE /v1/messages/:id` reads on the panel. */
function retractionText(id: string, outcome: Retraction | ApiError): string {
  if (!(outcome instanceof ApiError)) return `${outcome.id}: ${outcome.status}`
  if (outcome.code === 'NOT_FOUND') return `${id}: not found (expired, or not sent by this token's system)`
  return `${id}: failed (${outcome.status} ${outcome.message})`
}

/**
 * "Retract" for the messages the panel just sent through `POST /v1/messages`: `DELETE
 * /v1/messages/:id` for each, and the status herald answered (canceled before it was written,
 * or retracted: gone from the inbox and from every open tab).
 */
function retractControl(serviceToken: () => string): { el: HTMLElement; offer(ids: readonly string[]): void } {
  let ids: readonly string[] = []
  const result = h('span', { class: 'hint', role: 'status', 'data-testid': 'retract-result' })
  const button = h('button', { type: 'button', class: 'secondary', 'data-testid': 'retract', hidden: true }, 'Retract')
  button.addEventListener('click', async () => {
    button.disabled = true
    const answers: string[] = []
    for (const id of ids) {
      const outcome = await api.retractMessage(serviceToken(), id).catch((err: unknown) => {
        if (err instanceof ApiError) return err
        throw err
      })
      answers.push(retractionText(id, outcome))
    }
    result.textContent = `Retract ${answers.join(', ')}.`
    button.hidden = true
    button.disabled = false
  })
  return {
    el: h('div', { class: 'row' }, button, result),
    offer(sent) {
      ids = sent
      button.hidden = sent.length === 0
      result.textContent = ''
    },
  }
}

/** The "expires in" field: nothing (no expiry) or whole seconds, 1 or more; null when it is neither. */
function readTtl(input: HTMLInputElement): number | undefined | null {
  const raw = input.value.trim()
  if (raw === '') return undefined
  const ttl = Number(raw)
  return Number.isInteger(ttl) && ttl >= 1 ? ttl : null
}

/**
 * Sends a chat message through the public API. To every device: a `chat.message` event
 * (`/v1/events`, `events:write`); to some devices only: `POST /v1/messages` (`messages:write`)
 * with `to.sessionIds` or `exceptSessionId`, which name sessions of the signed-in user. Either
 * may expire (`ttl`), and what went through `/v1/messages` can be retracted. There is no
 * dev-only shortcut: the page needs a service token (`pnpm stack` prints one), kept in
 * sessionStorage only.
 */
export function senderPanel(me: User, mySessionId: () => string | null): SenderPanel {
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
  const ttlInput = h('input', {
    id: 'send-ttl',
    type: 'number',
    min: 1,
    step: 1,
    inputmode: 'numeric',
    placeholder: 'never',
    'data-testid': 'send-ttl',
  })
  const target = h(
    'select',
    { id: 'send-target', 'data-testid': 'send-target' },
    ...TARGETS.map(([value, label]) => h('option', { value }, label)),
  )
  const session = h('select', { id: 'send-session', 'data-testid': 'send-session', hidden: true })
  const targetHint = h('p', { class: 'hint' })
  const onTarget = () => {
    const t = target.value as Target
    // sessions are the signed-in user's: a message for some of them is a message to oneself
    const toMe = t === 'this' || t === 'session'
    if (toMe) to.value = me.id
    to.disabled = toMe
    session.hidden = t !== 'session'
    targetHint.textContent =
      t === 'all'
        ? ''
        : t === 'others'
          ? 'To the recipient and to your other devices (to.userIds + exceptSessionId): not echoed here.'
          : 'To your own devices (to.sessionIds): pushed there only, listed in every device’s inbox.'
  }
  target.addEventListener('change', onTarget)
  const result = h('p', { class: 'hint', role: 'status', 'data-testid': 'send-result' })
  const send = h('button', { type: 'submit', class: 'primary', 'data-testid': 'send' }, 'Send chat.message')
  const retract = retractControl(() => tokenInput.value.trim())

  const form = h(
    'form',
    { class: 'stack' },
    h('label', { for: 'service-token' }, 'Service token (events:write, messages:write)'),
    tokenInput,
    h(
      'p',
      { class: 'hint' },
      'pnpm stack prints one; pnpm run token --sub demo --scope "events:write messages:write" makes another.',
    ),
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
    h('label', { for: 'send-ttl' }, 'Expires in (s), optional'),
    ttlInput,
    h('label', { for: 'send-target' }, 'Deliver to'),
    target,
    session,
    targetHint,
    send,
    result,
    retract.el,
  )
  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    const serviceToken = tokenInput.value.trim()
    storage.setServiceToken(serviceToken)
    if (!serviceToken) {
      result.textContent = 'Paste a service token first.'
      return
    }
    const t = target.value as Target
    const here = mySessionId()
    if (t !== 'all' && (t === 'session' ? !session.value : !here)) {
      result.textContent =
        t === 'session' ? 'Pick a session first.' : 'Not connected yet: this device has no session id.'
      return
    }
    const ttl = readTtl(ttlInput)
    if (ttl === null) {
      result.textContent = 'Expires in: a whole number of seconds, 1 or more (or nothing).'
      return
    }
    send.disabled = true
    retract.offer([])
    try {
      if (t === 'all') {
        const res = await api.sendChat(serviceToken, {
          id: `web-${crypto.randomUUID()}`,
          fromUserId: me.id,
          toUserId: to.value.trim(),
          text: text.value,
          ttl,
        })
        result.textContent = `Event ${res.id}: ${res.status}.`
      } else {
        const message: TargetedMessage = {
          to: { userIds: [me.id] },
          kind: 'chat.message',
          title: `Message from ${me.nickname}`,
          body: text.value,
          data: { fromUserId: me.id },
          ...(ttl !== undefined ? { ttl } : {}),
        }
        if (t === 'this') message.to.sessionIds = [here as string]
        else if (t === 'session') message.to.sessionIds = [session.value]
        else {
          message.to.userIds = [...new Set([to.value.trim(), me.id])]
          message.exceptSessionId = here as string
        }
        const res = await api.sendMessage(serviceToken, message)
        result.textContent = `Message ${res.ids.join(', ')}: ${res.status}.`
        retract.offer(res.ids)
      }
    } catch (err) {
      const scope = t === 'all' ? 'events:write' : 'messages:write'
      result.textContent =
        err instanceof ApiError && err.status === 401
          ? 'The service token was refused (401).'
          : err instanceof ApiError && err.status === 403
            ? `The service token lacks the ${scope} scope (403).`
            : `Failed: ${(err as Error).message}`
    } finally {
      send.disabled = false
    }
  })

  const setSessions = (sessions: readonly SessionView[]) => {
    const chosen = session.value
    fill(
      session,
      ...sessions.map((s) =>
        h(
          'option',
          { value: s.id, selected: s.id === chosen },
          `${s.device || 'unknown device'}${s.current ? ' (this browser)' : ''} · ${s.id.slice(0, 8)}`,
        ),
      ),
    )
  }

  const el = h(
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
  return { el, setSessions }
}
