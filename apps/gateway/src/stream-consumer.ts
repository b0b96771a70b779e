import type { RedisClient } from '@herald/redis'
import type { RawEntry } from './delivery'

export interface StreamConsumerOptions {
  /** a dedicated client, owned by the consumer: XREAD BLOCK holds it, `stop()` disconnects it */
  client: RedisClient
  key: string
  /** @default 5000 */
  blockMs?: number
  /** @default 500 */
  count?: number
  onEntries(entries: RawEntry[]): void
  onError?(err: Error, attempt: number): void
}

type XReadReply = [key: string, entries: RawEntry[]][] | null

/** Full-jitter exponential backoff, in ms. */
export function backoff(attempt: number, min = 100, max = 5000): number {
  const cap = Math.min(max, min * 2 ** Math.min(attempt, 16))
  return Math.floor(Math.random() * (cap - min)) + min
}

/**
 * Reads one of this replica's streams (one partition's) from where it stood at start (`$`,
 * resolved to a concrete id so no entry between two reads is missed), forever, on its own
 * client. A failed read backs off and resumes from the last id; ioredis reconnects a dropped
 * connection, follows a Sentinel failover or a Cluster slot move, and resends the blocked
 * read. A read that outlives its block time by far is taken as a half-open connection and
 * the connection is recycled. Stopping disconnects the consumer's own client, which ends a
 * blocked read at once on any topology (no CLIENT UNBLOCK that would have to reach the
 * right node).
 */
export class StreamConsumer {
  private lastId = '$'
  private readonly abort = new AbortController()
  private loop: Promise<void> | null = null
  private readonly blockMs: number
  private readonly count: number

  constructor(private readonly opts: StreamConsumerOptions) {
    this.blockMs = opts.blockMs ?? 5000
    this.count = opts.count ?? 500
  }

  get position(): string {
    return this.lastId
  }

  /** Resolves the start position, then reads in the background. */
  async start(): Promise<void> {
    const last = await this.opts.client.xrevrange(this.opts.key, '+', '-', 'COUNT', 1)
    this.lastId = last[0]?.[0] ?? '0-0'
    this.loop = this.run()
  }

  async stop(): Promise<void> {
    if (this.abort.signal.aborted) return
    this.abort.abort()
    this.opts.client.disconnect()
    let timer: NodeJS.Timeout | undefined
    await Promise.race([this.loop, new Promise<void>((r) => (timer = setTimeout(r, 1000)))])
    clearTimeout(timer)
  }

  private async run(): Promise<void> {
    const { signal } = this.abort
    let attempt = 0
    while (!signal.aborted) {
      try {
        const reply = await this.read()
        attempt = 0
        if (!reply || signal.aborted) continue
        for (const [, entries] of reply) {
          if (entries.length === 0) continue
          this.lastId = (entries[entries.length - 1] as RawEntry)[0]
          this.opts.onEntries(entries)
        }
      } catch (err) {
        if (signal.aborted) break
        this.opts.onError?.(err as Error, attempt)
        await sleep(backoff(attempt++), signal)
      }
    }
  }

  private async read(): Promise<XReadReply> {
    const r = this.opts.client
    const watchdog = setTimeout(() => r.disconnect(true), this.blockMs + 10_000)
    try {
      return (await r.xread(
        'COUNT',
        this.count,
        'BLOCK',
        this.blockMs,
        'STREAMS',
        this.opts.key,
        this.lastId,
      )) as XReadReply
    } finally {
      clearTimeout(watchdog)
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms)
    function done() {
      clearTimeout(t)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}
