import WebSocket from 'ws'

/** A tiny test client of the public API, through nginx only. */
export interface Frame {
  type: string
  [k: string]: unknown
}

export async function api<T = unknown>(
  base: string,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: T; headers: Headers }> {
  const headers: Record<string, string> = { ...opts.headers }
  if (opts.token) headers.authorization = `Bearer ${opts.token}`
  if (opts.body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    signal: AbortSignal.timeout(10_000),
  })
  const text = await res.text()
  let body: unknown = text
  try {
    body = text ? JSON.parse(text) : null
  } catch {}
  return { status: res.status, body: body as T, headers: res.headers }
}

let phoneSeq = 0
/** A phone number no other test uses (CN mobile range). */
export function newPhone(): string {
  phoneSeq++
  return `+86139${String(process.pid % 1000).padStart(3, '0')}${String(phoneSeq).padStart(5, '0')}`
}

export interface LoggedIn {
  token: string
  user: { id: string; nickname: string; phone: string }
  phone: string
  /** the SMS code used (tests check it never reaches a log) */
  code: string
}

/** Full SMS login through nginx with the dev SMS provider. */
export async function login(base: string, phone = newPhone(), device = 'e2e'): Promise<LoggedIn> {
  const sent = await api(base, 'POST', '/auth/code', { body: { phone } })
  if (sent.status !== 202) throw new Error(`POST /auth/code → ${sent.status} ${JSON.stringify(sent.body)}`)
  const sms = await api<{ code: string }>(base, 'GET', `/auth/dev/sms/${encodeURIComponent(phone)}`)
  const res = await api<{ token: string; user: LoggedIn['user'] }>(base, 'POST', '/auth/login', {
    body: { phone, code: sms.body.code, device },
  })
  if (res.status !== 200) throw new Error(`POST /auth/login → ${res.status} ${JSON.stringify(res.body)}`)
  return { token: res.body.token, user: res.body.user, phone, code: sms.body.code }
}

export async function ticket(base: string, token: string): Promise<string> {
  const res = await api<{ ticket: string }>(base, 'POST', '/auth/ws-ticket', { token })
  if (res.status !== 200) throw new Error(`POST /auth/ws-ticket → ${res.status}`)
  return res.body.ticket
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} not within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** A WebSocket that records every frame, and the close code. */
export class TestSocket {
  frames: Frame[] = []
  closed: { code: number; reason: string } | null = null
  ws!: WebSocket

  /** Connects and waits for `welcome` (or a close, e.g. 4401). */
  static async open(wsUrl: string, ticketValue: string, since?: string): Promise<TestSocket> {
    const s = new TestSocket()
    const url = `${wsUrl}?ticket=${encodeURIComponent(ticketValue)}${since ? `&since=${since}` : ''}`
    s.ws = new WebSocket(url)
    s.ws.on('message', (data) => s.frames.push(JSON.parse(data.toString()) as Frame))
    s.ws.on('close', (code, reason) => {
      s.closed = { code, reason: reason.toString() }
    })
    s.ws.on('error', () => {})
    await until(() => s.welcome !== undefined || s.closed !== null, 10_000, 'welcome')
    return s
  }

  get welcome(): Frame | undefined {
    return this.frames.find((f) => f.type === 'welcome')
  }

  messages(): Frame[] {
    return this.frames.filter((f) => f.type === 'message')
  }

  lastCursor(): string | undefined {
    return this.messages().at(-1)?.cursor as string | undefined
  }

  async waitFrame(pred: (f: Frame) => boolean, timeoutMs = 5000): Promise<Frame> {
    await until(() => this.frames.some(pred), timeoutMs, 'frame')
    return this.frames.find(pred) as Frame
  }

  async waitClosed(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    await until(() => this.closed !== null, timeoutMs, 'close')
    return this.closed as { code: number; reason: string }
  }

  async waitMessages(n: number, timeoutMs = 10_000): Promise<Frame[]> {
    await until(() => this.messages().length >= n, timeoutMs, `${n} messages (got ${this.messages().length})`)
    return this.messages()
  }

  send(frame: unknown): void {
    this.ws.send(JSON.stringify(frame))
  }

  close(): void {
    this.ws.close()
  }
}

/**
 * What a real client does: reconnects after any close but 4401/4409, with `since` = the
 * last cursor it saw, and drops duplicates by id.
 */
export class ResilientClient {
  received: Frame[] = []
  private seen = new Set<string>()
  socket: TestSocket | null = null
  sockets: TestSocket[] = []
  reconnects = 0
  closes: number[] = []
  welcomes: Frame[] = []
  private stopped = false
  private lastCursor: string | undefined

  constructor(
    private readonly base: string,
    private readonly wsUrl: string,
    private readonly token: string,
  ) {}

  async connect(): Promise<void> {
    const s = await TestSocket.open(this.wsUrl, await ticket(this.base, this.token), this.lastCursor)
    if (!s.welcome) throw new Error(`refused: ${s.closed?.code}`)
    this.welcomes.push(s.welcome)
    // nothing received yet: resume from where this connection started (welcome.cursor)
    if (this.lastCursor === undefined && typeof s.welcome.cursor === 'string') this.lastCursor = s.welcome.cursor
    this.socket = s
    this.sockets.push(s)
    s.ws.on('message', () => this.drain(s))
    this.drain(s)
    s.ws.on('close', (code) => {
      this.closes.push(code)
      if (this.stopped || code === 4401 || code === 4409) return
      this.reconnects++
      const retry = async (attempt: number): Promise<void> => {
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(1000, 100 * 2 ** attempt)))
        if (this.stopped) return
        try {
          await this.connect()
        } catch {
          if (attempt < 20) await retry(attempt + 1)
        }
      }
      void retry(0)
    })
  }

  private drained = new WeakMap<TestSocket, number>()
  private drain(s: TestSocket) {
    let i = this.drained.get(s) ?? 0
    for (; i < s.frames.length; i++) {
      const f = s.frames[i] as Frame
      if (f.type !== 'message') continue
      this.lastCursor = f.cursor as string
      if (this.seen.has(f.id as string)) continue
      this.seen.add(f.id as string)
      this.received.push(f)
    }
    this.drained.set(s, i)
  }

  /** every frame of every socket this client opened, duplicates included */
  socketFrames(): Frame[] {
    return this.sockets.flatMap((s) => s.frames)
  }

  ids(): string[] {
    return this.received.map((f) => f.id as string)
  }

  async waitCount(n: number, timeoutMs = 15_000): Promise<void> {
    await until(() => this.received.length >= n, timeoutMs, `${n} messages (got ${this.received.length})`)
  }

  stop(): void {
    this.stopped = true
    this.socket?.close()
  }
}
