import { randomUUID } from 'node:crypto'
import type { EventJob } from './events'

/**
 * The job that carries several accepted events at once: `data.events`, each an EventJob the
 * notifier's worker runs as it runs a job of its own (its record, its retries, its webhooks).
 * Its producers are the notifier API and auth; the API takes only the catalog's public types,
 * so no caller can send one.
 */
export const BATCH_JOB_TYPE = 'herald.batch'

/** The events of a batch job, or null when `job` is not one. */
export function eventsOfBatch(job: EventJob): EventJob[] | null {
  if (job.type !== BATCH_JOB_TYPE) return null
  const events = job.data.events
  return Array.isArray(events) ? (events as EventJob[]) : []
}

/** A batch job's own envelope: its id names no event, so no event's job id can collide with it. */
export function batchJob(events: EventJob[], now = Date.now()): EventJob {
  return {
    id: `batch-${randomUUID()}`,
    type: BATCH_JOB_TYPE,
    data: { events },
    occurredAt: new Date(now).toISOString(),
    acceptedAt: now,
    source: 'herald',
  }
}

interface Waiting {
  job: EventJob
  resolve: () => void
  reject: (err: unknown) => void
}

export interface JobBatcherOptions {
  /** most events to a job; 1: every event alone */
  max: number
  /** an add that has not settled by then fails its events, and the next add may go */
  timeoutMs: number
  /** adds a job to the queue: an event alone, or a batch job (`batchJob`) */
  add: (job: EventJob) => Promise<unknown>
}

/**
 * Group commit of the events a producer sends for now (no delay): while one add to the queue is
 * in flight, the events sent meanwhile wait and then go as one job — at most `max` to a job.
 * An event never waits for more than the add before its own (one round trip to Redis, at most
 * `timeoutMs`) and the turn of the event loop it was sent in; at a low rate every event is
 * added alone, as a job of its own (`jobIdFor` its event), exactly as without the batcher.
 *
 * Each BullMQ job costs Redis three scripts (add, take, finish) and the worker its bookkeeping,
 * whatever it carries: under load a batch of n events pays them once instead of n times.
 */
export class JobBatcher {
  private waiting: Waiting[] = []
  private inFlight = false
  private scheduled = false

  constructor(private readonly opts: JobBatcherOptions) {}

  /** Resolves once the event is in the queue (alone or in a batch); rejects if that add failed. */
  add(job: EventJob): Promise<void> {
    if (this.opts.max <= 1) return this.withTimeout(this.opts.add(job))
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ job, resolve, reject })
      this.schedule()
    })
  }

  /** The events that wait for an add (for tests and metrics). */
  get pending(): number {
    return this.waiting.length
  }

  private schedule(): void {
    if (this.inFlight || this.scheduled) return
    this.scheduled = true
    // after this turn's other requests: those accepted in the same turn go together
    setImmediate(() => {
      this.scheduled = false
      void this.flush()
    })
  }

  private async flush(): Promise<void> {
    if (this.inFlight || this.waiting.length === 0) return
    const taken = this.waiting.splice(0, this.opts.max)
    this.inFlight = true
    try {
      const job = taken.length === 1 ? (taken[0] as Waiting).job : batchJob(taken.map((w) => w.job))
      await this.withTimeout(this.opts.add(job))
      for (const w of taken) w.resolve()
    } catch (err) {
      for (const w of taken) w.reject(err)
    } finally {
      this.inFlight = false
      // those accepted while it was in flight go now, together
      if (this.waiting.length > 0) void this.flush()
    }
  }

  private async withTimeout(add: Promise<unknown>): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    try {
      await Promise.race([
        add,
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`the queue did not answer within ${this.opts.timeoutMs} ms`)),
            this.opts.timeoutMs,
          )
        }),
      ])
    } finally {
      clearTimeout(timer)
    }
  }
}
