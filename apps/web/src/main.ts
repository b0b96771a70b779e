import './style.css'
import { ApiError, api } from './api'
import { mountApp } from './app'
import { loginView } from './login'
import { storage } from './storage'

const root = document.getElementById('app') as HTMLElement
let teardown: (() => void) | undefined

function showLogin(notice?: string): void {
  teardown?.()
  teardown = undefined
  storage.clearToken()
  root.replaceChildren(
    loginView({
      ...(notice ? { notice } : {}),
      onSignedIn: (token) => {
        storage.setToken(token)
        void boot()
      },
    }),
  )
  root.querySelector<HTMLInputElement>('#phone')?.focus()
}

async function boot(): Promise<void> {
  teardown?.()
  teardown = undefined
  const token = storage.token()
  if (!token) return showLogin()
  try {
    const user = await api.me(token)
    teardown = mountApp(root, { token, user, onSignedOut: (notice) => showLogin(notice) })
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return showLogin('Your session has ended. Sign in again.')
    root.replaceChildren(
      Object.assign(document.createElement('p'), {
        className: 'fatal',
        textContent: `herald: ${(err as Error).message}`,
      }),
    )
    setTimeout(() => void boot(), 3000)
  }
}

// another tab signed in or out: follow it (the session token is shared by every tab)
window.addEventListener('storage', (e) => {
  if (e.key === storage.TOKEN_KEY && e.newValue !== e.oldValue) void boot()
})

void boot()
