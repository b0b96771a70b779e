import WebSocket from 'ws'
import { type Frame, ticket } from '../client'

export interface SeqClientOptions {
  base: string
  wsUrl: string
  token: string
  /** `ticket`: POST /auth/ws-ticket before every connect (a browser); `bearer`: the session token on the upgrade */
  auth?: 'ticket' | 'bearer'
  /** full-jitter backoff: attempt n waits random(0, min(max, base·2ⁿ)) @default 200 */
  backoffBaseMs?: number
  /** @default 5000 */
  backoffMaxMs?: number
  /** give up after this many failed attempts in a row @default 40 */
  maxAttempts?: number
  /** keep every message and its first receipt time (false for soaks: only counts and `onMessage`) @default true */
  keep?: boolean
  onMessage?: (frame: Frame, at: number) => void
}

/**
 * What a real client does, with the figures a test needs: reconnects after any close
 * but 4401/4409 with `since` = the last cursor and full-jitter exponential backoff
 * (honouring a 1013 `retry-after=N` hint), drops duplicates by id, and records when
 * each message was first seen, every raw message frame, every welcome and every close.
 */
export class SeqClient {
  /** first receipt time per message id */
  readonly firstSeen = new Map<string, number>()
  readonly received: Frame[] = []
  /** every message frame of every socket, duplicates included */
  rawMessages = 0
  readonly welcomes: { frame: Frame; at: number }[] = []
  readonly closes: { code: number; reason: string; at: number }[] = []
  readonly refusals: number[] = []
  /** when each connection attempt started */
  readonly attempts: number[] = []
  ws: WebSocket | null = null
  private lastCursor: string | undefined
  private stopped = false
  failed = 0
  /** the last error of a failed attempt, for diagnostics */
  lastError = ''
  gaveUp = false
  private readonly o: Required<Omit<SeqClientOptions, 'onMessage'>> & Pick<SeqClientOptions, 'onMessage'>

  constructor(opts: SeqClientOptions) {
    this.o = { auth: 'ticket', backoffBaseMs: 200, backoffMaxMs: 5000, maxAttempts: 40, keep: true, ...opts }
  }

  get replica(): string | undefined {
    return this.welcomes.at(-1)?.frame.replica as string | undefined
  }

  get open(): boolean {
    return this.ws?.readyState === WebSocket.OPEN && this.welcomes.length > 0
  }

  /** One attempt: resolves on welcome, rejects on a close before it. */
  async connect(): Promise<void> {
    this.attempts.push(Date.now())
    const q = new URLSearchParams()
    const headers: Record<string, string> = {}
    if (this.o.auth === 'ticket') q.set('ticket', await ticket(this.o.base, this.o.token))
    else headers.authorization = `Bearer ${this.o.token}`
    if (this.lastCursor) q.set('since', this.lastCursor)
    const ws = new WebSocket(`${this.o.wsUrl}?${q}`, { headers })
    this.ws = ws
    await new Promise<void>((resolve, reject) => {
      let welcomed = false
      const timer = setTimeout(() => {
        ws.terminate()
        reject(new Error('no welcome within 15 s'))
      }, 15_000)
      ws.on('message', (data) => {
        const f = JSON.parse(data.toString()) as Frame
        if (f.type === 'welcome') {
          welcomed = true
          clearTimeout(timer)
          this.welcomes.push({ frame: f, at: Date.now() })
          // nothing received yet: resume from where this connection started, not from nowhere
          if (this.lastCursor === undefined && typeof f.cursor === 'string') this.lastCursor = f.cursor
          this.failed = 0
          resolve()
          return
        }
        if (f.type !== 'message') return
        this.rawMessages++
        this.lastCursor = f.cursor as string
        this.o.onMessage?.(f, Date.now())
        if (!this.o.keep) return
        const id = f.id as string
        if (this.firstSeen.has(id)) return
        this.firstSeen.set(id, Date.now())
        this.received.push(f)
      })
      ws.on('error', () => {})
      ws.on('close', (code, reasonBuf) => {
        clearTimeout(timer)
        const reason = reasonBuf.toString()
        if (!welcomed) {
          if (code === 1013) this.refusals.push(Date.now())
          const err = new Error(`closed ${code} ${reason} before welcome`) as Error & { code?: number; reason?: string }
          err.code = code
          err.reason = reason
          reject(err)
          return
        }
        this.closes.push({ code, reason, at: Date.now() })
        if (this.stopped || code === 4401 || code === 4409) return
        void this.reconnect(code, reason)
      })
    })
  }

  private async reconnect(code: number, reason: string): Promise<void> {
    let hint = 0
    const m = /retry-after=(\d+)/.exec(reason)
    if (code === 1013 && m) hint = Number(m[1]) * 1000
    while (!this.stopped) {
      const cap = Math.min(this.o.backoffMaxMs, this.o.backoffBaseMs * 2 ** this.failed)
      await new Promise((r) => setTimeout(r, hint + Math.random() * cap))
      hint = 0
      if (this.stopped) return
      try {
        await this.connect()
        return
      } catch (err) {
        const e = err as { code?: number; reason?: string; message?: string }
        this.lastError = e.message ?? String(err)
        if (e.code === 4401 || e.code === 4409) {
          this.gaveUp = true
          return
        }
        const hm = e.code === 1013 ? /retry-after=(\d+)/.exec(e.reason ?? '') : null
        if (hm) hint = Number(hm[1]) * 1000
        if (++this.failed >= this.o.maxAttempts) {
          this.gaveUp = true
          return
        }
      }
    }
  }

  /** Connects, retrying like a reconnect would. */
  async start(): Promise<void> {
    for (;;) {
      try {
        await this.connect()
        return
      } catch (err) {
        if (++this.failed >= this.o.maxAttempts) throw err
        const e = err as { code?: number; reason?: string }
        const hm = e.code === 1013 ? /retry-after=(\d+)/.exec(e.reason ?? '') : null
        const cap = Math.min(this.o.backoffMaxMs, this.o.backoffBaseMs * 2 ** this.failed)
        await new Promise((r) => setTimeout(r, (hm ? Number(hm[1]) * 1000 : 0) + Math.random() * cap))
      }
    }
  }

  stop(): void {
    this.stopped = true
    this.ws?.close()
  }
}
