/** What the page needs of herald's HTTP API beyond the client SDK: login, sessions, the test sender. */
export interface User {
  id: string
  nickname: string
  phone: string
}

export interface SessionView {
  id: string
  device: string
  createdAt: string
  lastSeenAt: string
  current: boolean
}

/** `POST /v1/messages`, as the sender panel uses it: one user's devices chosen by session */
export interface TargetedMessage {
  to: { userIds: string[]; sessionIds?: string[] }
  exceptSessionId?: string
  kind: string
  title: string
  body: string
  data: Record<string, unknown>
  /** seconds until it expires: past it herald neither delivers nor lists it */
  ttl?: number
}

/** `DELETE /v1/messages/:id`: canceled before it was written (a deliverAt not reached), or retracted from the inbox */
export interface Retraction {
  id: string
  status: 'canceled' | 'retracted'
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfter: number | null = null,
  ) {
    super(message)
  }
}

async function call<T>(method: string, path: string, opts: { token?: string | null; body?: unknown } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' }
  if (opts.token) headers.authorization = `Bearer ${opts.token}`
  if (opts.body !== undefined) headers['content-type'] = 'application/json'
  let res: Response
  try {
    res = await fetch(path, {
      method,
      headers,
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    })
  } catch {
    throw new ApiError(0, 'NETWORK', 'herald cannot be reached')
  }
  const text = await res.text()
  let body: unknown = null
  try {
    body = text ? JSON.parse(text) : null
  } catch {}
  if (!res.ok) {
    const e = (body ?? {}) as { code?: string; message?: string }
    const retry = res.headers.get('retry-after')
    throw new ApiError(
      res.status,
      e.code ?? `HTTP_${res.status}`,
      e.message ?? res.statusText,
      retry ? Number(retry) : null,
    )
  }
  return body as T
}

export const api = {
  sendCode: (phone: string) => call<{ expiresIn: number; resendIn: number }>('POST', '/auth/code', { body: { phone } }),
  /** only while the dev SMS provider is on; 404 in production */
  devCode: (phone: string) => call<{ code: string }>('GET', `/auth/dev/sms/${encodeURIComponent(phone)}`),
  login: (phone: string, code: string, device: string) =>
    call<{ token: string; expiresIn: number; user: User }>('POST', '/auth/login', { body: { phone, code, device } }),
  me: (token: string) => call<User>('GET', '/auth/me', { token }),
  sessions: (token: string) => call<SessionView[]>('GET', '/auth/sessions', { token }),
  revokeSession: (token: string, id: string) =>
    call<null>('DELETE', `/auth/sessions/${encodeURIComponent(id)}`, { token }),
  logout: (token: string) => call<null>('POST', '/auth/logout', { token }),
  logoutAll: (token: string) => call<null>('POST', '/auth/logout-all', { token }),
  /** `POST /v1/events` with a service token (the page has no dev-only shortcut) */
  sendChat: (
    serviceToken: string,
    event: { id: string; fromUserId: string; toUserId: string; text: string; ttl?: number | undefined },
  ) =>
    call<{ id: string; status: string }>('POST', '/v1/events', {
      token: serviceToken,
      body: {
        id: event.id,
        type: 'chat.message',
        data: { fromUserId: event.fromUserId, toUserId: event.toUserId, text: event.text },
        ...(event.ttl !== undefined ? { ttl: event.ttl } : {}),
      },
    }),
  /** `POST /v1/messages` with a service token (`messages:write`): the sender's device targeting */
  sendMessage: (serviceToken: string, message: TargetedMessage) =>
    call<{ requestId: string; ids: string[]; status: string }>('POST', '/v1/messages', {
      token: serviceToken,
      body: message,
    }),
  /** `DELETE /v1/messages/:id` with the service token that sent it: every open tab of the user gets a `retract` frame */
  retractMessage: (serviceToken: string, id: string) =>
    call<Retraction>('DELETE', `/v1/messages/${encodeURIComponent(id)}`, { token: serviceToken }),
  /** the VAPID public key; 404 when the server has Web Push off */
  pushKey: (token: string) => call<{ publicKey: string }>('GET', '/inbox/push-subscriptions/key', { token }),
  pushSubscribe: (token: string, subscription: PushSubscriptionJSON) =>
    call<{ id: string; replaced: boolean }>('POST', '/inbox/push-subscriptions', { token, body: subscription }),
  pushUnsubscribe: (token: string, endpoint: string) =>
    call<null>('DELETE', '/inbox/push-subscriptions', { token, body: { endpoint } }),
}
