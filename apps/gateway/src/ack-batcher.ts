import type { AckBatchItem, Inbox } from '@herald/inbox'

/** A window's acks are recorded at once when they name this many ids, before the window ends. */
export const ACK_BATCH_MAX_IDS = 1000

interface Waiting {
  item: AckBatchItem
  resolve: () => void
  reject: (err: Error) => void
}

/**
 * The `ack` frames of every socket (and `POST /sse/frames`) of this replica, recorded together:
 * those that arrive within `windowMs` of the first go to Redis in one record-acks script per
 * partition, instead of one round trip each. Each ack keeps its own arrival time (its
 * `deliveredAt`); only its recording waits, at most `windowMs` (0: each frame is recorded at once).
 * An ack's promise settles when it is recorded, or with its partition's error.
 */
export class AckBatcher {
  private waiting: Waiting[] = []
  private ids = 0
  private timer: NodeJS.Timeout | null = null

  constructor(
    private readonly inbox: Inbox,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  add(userId: string, deviceId: string, ids: readonly string[]): Promise<void> {
    const item: AckBatchItem = { userId, deviceId, ids, at: this.now() }
    if (this.windowMs === 0) return this.record([item]).then(([err]) => (err ? Promise.reject(err) : undefined))
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject })
      this.ids += ids.length
      if (this.ids >= ACK_BATCH_MAX_IDS) void this.flush()
      else this.timer ??= setTimeout(() => void this.flush(), this.windowMs)
    })
  }

  /** Records what waits now (the window's end, a full window, or shutdown). */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    const batch = this.waiting
    this.waiting = []
    this.ids = 0
    if (batch.length === 0) return
    const errors = await this.record(batch.map((w) => w.item))
    batch.forEach((w, i) => {
      const err = errors[i]
      if (err) w.reject(err)
      else w.resolve()
    })
  }

  private record(items: AckBatchItem[]): Promise<(Error | null)[]> {
    return this.inbox
      .recordAckBatch(items)
      .catch((err: unknown) => items.map(() => (err instanceof Error ? err : new Error(String(err)))))
  }
}
