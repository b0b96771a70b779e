/**
 * Where the demo keeps its tokens. The session token lives in sessionStorage: this tab only,
 * gone when the tab closes, never on disk after that. Other open tabs of this page get it
 * over a BroadcastChannel (same origin only), so a second tab is signed in while a first
 * is open, and signing in or out in one tab is followed by the others. The pasted service
 * token is kept in sessionStorage too (this tab, until it closes).
 */
const TOKEN = 'herald.token'
const SERVICE_TOKEN = 'herald.serviceToken'

type Note = { type: 'ask' } | { type: 'token'; token: string } | { type: 'signed-out' }

const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('herald.session') : null
const post = (note: Note) => channel?.postMessage(note)
/** true while this tab waits for another tab's answer: that answer is askOtherTabs' to take */
let asking = false

export const storage = {
  token: (): string | null => sessionStorage.getItem(TOKEN),
  setToken: (token: string) => {
    sessionStorage.setItem(TOKEN, token)
    post({ type: 'token', token })
  },
  clearToken: () => {
    if (sessionStorage.getItem(TOKEN) === null) return
    sessionStorage.removeItem(TOKEN)
    post({ type: 'signed-out' })
  },
  serviceToken: (): string => sessionStorage.getItem(SERVICE_TOKEN) ?? '',
  setServiceToken: (token: string) => {
    if (token) sessionStorage.setItem(SERVICE_TOKEN, token)
    else sessionStorage.removeItem(SERVICE_TOKEN)
  },

  /** Asks the other open tabs for their session token; null when none answers within `waitMs`. */
  askOtherTabs(waitMs = 300): Promise<string | null> {
    if (!channel) return Promise.resolve(null)
    const ch = channel
    asking = true
    return new Promise((resolve) => {
      const done = (token: string | null) => {
        asking = false
        clearTimeout(timer)
        ch.removeEventListener('message', onNote)
        resolve(token)
      }
      const onNote = (e: MessageEvent<Note>) => {
        if (e.data.type === 'token') done(e.data.token)
      }
      const timer = setTimeout(() => done(null), waitMs)
      ch.addEventListener('message', onNote)
      post({ type: 'ask' })
    })
  },

  /** Answers other tabs' questions, and calls `onChange` when another tab signs in or out. */
  follow(onChange: () => void): void {
    channel?.addEventListener('message', (e: MessageEvent<Note>) => {
      const note = e.data
      const mine = sessionStorage.getItem(TOKEN)
      if (note.type === 'ask' && mine) post({ type: 'token', token: mine })
      else if (note.type === 'token' && !asking && note.token !== mine) {
        sessionStorage.setItem(TOKEN, note.token)
        onChange()
      } else if (note.type === 'signed-out' && mine !== null) {
        sessionStorage.removeItem(TOKEN)
        onChange()
      }
    })
  },
}
