/**
 * The session token lives in localStorage (every tab of this browser shares the session);
 * the pasted service token only in sessionStorage (this tab, until it closes).
 */
const TOKEN = 'herald.token'
const SERVICE_TOKEN = 'herald.serviceToken'

export const storage = {
  token: (): string | null => localStorage.getItem(TOKEN),
  setToken: (token: string) => localStorage.setItem(TOKEN, token),
  clearToken: () => localStorage.removeItem(TOKEN),
  serviceToken: (): string => sessionStorage.getItem(SERVICE_TOKEN) ?? '',
  setServiceToken: (token: string) => {
    if (token) sessionStorage.setItem(SERVICE_TOKEN, token)
    else sessionStorage.removeItem(SERVICE_TOKEN)
  },
  TOKEN_KEY: TOKEN,
}
