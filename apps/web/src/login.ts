import { ApiError, api, type User } from './api'
import { deviceName, fill, h } from './dom'

export interface LoginOptions {
  /** shown above the form, e.g. why the user was signed out */
  notice?: string
  onSignedIn(token: string, user: User): void
}

function explain(err: unknown): string {
  if (!(err instanceof ApiError)) return String(err)
  switch (err.code) {
    case 'INVALID_PHONE':
      return 'That does not look like a phone number. Try the full international form, e.g. +86 138 0013 8000.'
    case 'TOO_MANY_REQUESTS':
      return `Too many codes requested. Try again in ${err.retryAfter ?? 60} s.`
    case 'INVALID_CODE':
      return 'Wrong or expired code.'
    case 'TOO_MANY_ATTEMPTS':
      return 'Too many wrong codes. Request a new one.'
    case 'NETWORK':
      return 'herald cannot be reached. Is the stack running?'
    default:
      return err.message
  }
}

/** Phone → SMS code → session. In dev the code is readable at /auth/dev/sms/<phone>; the page says so and fills it in. */
export function loginView(opts: LoginOptions): HTMLElement {
  const error = h('p', { class: 'form-error', role: 'alert', 'data-testid': 'login-error' })
  const phone = h('input', {
    id: 'phone',
    name: 'phone',
    type: 'tel',
    autocomplete: 'tel',
    required: true,
    placeholder: '+86 138 0013 8000',
    'data-testid': 'phone',
  })
  const code = h('input', {
    id: 'code',
    name: 'code',
    inputmode: 'numeric',
    autocomplete: 'one-time-code',
    pattern: '[0-9]{6}',
    maxlength: 6,
    required: true,
    placeholder: '6 digits',
    'data-testid': 'code',
  })
  const devHint = h('p', { class: 'hint dev-hint', hidden: true, 'data-testid': 'dev-hint' })
  const sentTo = h('p', { class: 'hint' })
  const resend = h('button', { type: 'button', class: 'link' }, 'Send a new code')
  const sendButton = h('button', { type: 'submit', class: 'primary', 'data-testid': 'send-code' }, 'Send code')
  const signInButton = h('button', { type: 'submit', class: 'primary', 'data-testid': 'sign-in' }, 'Sign in')
  let resendTimer: ReturnType<typeof setInterval> | undefined

  const phoneForm = h(
    'form',
    { class: 'stack' },
    h('label', { for: 'phone' }, 'Phone number'),
    phone,
    h('p', { class: 'hint' }, 'Local numbers are read as Chinese (+86) numbers.'),
    sendButton,
  )
  const codeForm = h(
    'form',
    { class: 'stack', hidden: true },
    sentTo,
    h('label', { for: 'code' }, 'Code'),
    code,
    devHint,
    signInButton,
    h(
      'div',
      { class: 'row between' },
      h(
        'button',
        {
          type: 'button',
          class: 'link',
          onclick: () => {
            codeForm.hidden = true
            phoneForm.hidden = false
            error.textContent = ''
            phone.focus()
          },
        },
        'Use another number',
      ),
      resend,
    ),
  )

  const startResendCountdown = (seconds: number) => {
    clearInterval(resendTimer)
    let left = seconds
    const tick = () => {
      resend.disabled = left > 0
      resend.textContent = left > 0 ? `Send a new code (${left} s)` : 'Send a new code'
      if (left-- <= 0) clearInterval(resendTimer)
    }
    tick()
    resendTimer = setInterval(tick, 1000)
  }

  const showDevCode = async (number: string) => {
    const path = `/auth/dev/sms/${encodeURIComponent(number)}`
    try {
      const { code: devCode } = await api.devCode(number)
      code.value = devCode
      fill(
        devHint,
        'Development mode: no SMS is sent. The code is at ',
        h('a', { href: path, target: '_blank', rel: 'noopener' }, `/auth/dev/sms/${number}`),
        ' — filled in for you.',
      )
      devHint.hidden = false
    } catch {
      devHint.hidden = true // a real SMS provider: the code is on the phone
    }
  }

  const requestCode = async () => {
    error.textContent = ''
    sendButton.disabled = resend.disabled = true
    const number = phone.value.trim()
    try {
      const sent = await api.sendCode(number)
      phoneForm.hidden = true
      codeForm.hidden = false
      code.value = ''
      fill(
        sentTo,
        'We sent a 6-digit code to ',
        h('strong', {}, number),
        `. It is valid for ${sent.expiresIn / 60} min.`,
      )
      startResendCountdown(sent.resendIn)
      code.focus()
      await showDevCode(number)
    } catch (err) {
      error.textContent = explain(err)
      resend.disabled = false
    } finally {
      sendButton.disabled = false
    }
  }

  phoneForm.addEventListener('submit', (e) => {
    e.preventDefault()
    void requestCode()
  })
  resend.addEventListener('click', () => void requestCode())
  codeForm.addEventListener('submit', async (e) => {
    e.preventDefault()
    error.textContent = ''
    signInButton.disabled = true
    try {
      const res = await api.login(phone.value.trim(), code.value.trim(), deviceName())
      clearInterval(resendTimer)
      opts.onSignedIn(res.token, res.user)
    } catch (err) {
      error.textContent = explain(err)
    } finally {
      signInButton.disabled = false
    }
  })

  return h(
    'main',
    { class: 'login' },
    h(
      'section',
      { class: 'card login-card', 'data-testid': 'login' },
      h('h1', { class: 'brand' }, h('span', { class: 'logo' }, 'h'), 'herald'),
      h('p', { class: 'muted' }, 'Real-time notifications. Sign in with a one-time code sent by SMS.'),
      opts.notice ? h('p', { class: 'notice', 'data-testid': 'login-notice' }, opts.notice) : null,
      phoneForm,
      codeForm,
      error,
    ),
  )
}
