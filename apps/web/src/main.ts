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

/** Bumped by every boot: a boot overtaken by a newer one while it awaited stops there. */
let generation = 0

async function boot(): Promise<void> {
  const mine = ++generation
  teardown?.()
  teardown = undefined
  const token = storage.token() ?? (await storage.askOtherTabs())
  if (mine !== generation) return
  if (!token) return showLogin()
  if (storage.token() !== token) storage.setToken(token)
  try {
    const user = await api.me(token)
    if (mine !== generation) return
    teardown = mountApp(root, { token, user, onSignedOut: (notice) => showLogin(notice) })
  } catch (err) {
    if (mine !== generation) return
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

// another tab signed in or out: follow it (open tabs share the session over a BroadcastChannel)
storage.follow(() => void boot())

void boot()
