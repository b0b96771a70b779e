import { type EventJob, type EventStatus, type EventView, JobBatcher } from '@herald/contracts'
import { isRedisUnavailable } from '@herald/service-kit'
import type { NotifierConfig } from '../config'
import { NotifierErrors } from '../errors'
import { type EventsQueue, jobOptions } from '../queue'
import { type EventRecord, type EventRecords, type EventRef, FINAL_STATUSES } from './event-records'
import { jobIdFor } from './ids'

/** 2592000 → "30 days", 90 → "90 s": the limit as a person reads it. */
function humanSeconds(s: number): string {
  if (s % 86_400 === 0) return `${s / 86_400} day${s === 86_400 ? '' : 's'}`
  if (s % 3600 === 0) return `${s / 3600} h`
  return `${s} s`
}

export interface Accepted {
  /** true: this call created the event (202); false: the id was known already (200) */
  created: boolean
  status: EventStatus
}

/**
 * Accepting an event: claim the idempotency record atomically, then add the job — two round
 * trips. Only the claim's winner answers 202, and only once the job is in Redis. A loser that
 * finds a queued record with no job (the winner's Redis call failed) adds it from the record's
 * payload; BullMQ ignores a second add of the same job id.
 */
export class EventIntake {
  private readonly batcher: JobBatcher

  constructor(
    private readonly config: NotifierConfig,
    private readonly queue: EventsQueue,
    private readonly records: EventRecords,
  ) {
    this.batcher = new JobBatcher({
      max: config.EVENT_BATCH_MAX,
      // past the command client's own timeout (2 s): a safety net, never the usual end of an add
      timeoutMs: 5000,
      add: (job) => queue.add(job.type, job, jobOptions(config, job, 0)),
    })
  }

  /** The delay of a job due at `deliverAt`; DELIVER_AT_TOO_FAR past the horizon. */
  delayOf(job: EventJob, deliverAt?: number): number {
    const delay = deliverAt === undefined ? 0 : Math.max(0, deliverAt - job.acceptedAt)
    // A far-off deliverAt would keep its job and record in Redis until then: bounded.
    const horizon = this.config.DELIVER_AT_MAX_SECONDS
    if (delay > horizon * 1000) throw new NotifierErrors.DeliverAtTooFar(humanSeconds(horizon), horizon)
    return delay
  }

  async accept(job: EventJob, deliverAt?: number): Promise<Accepted> {
    const delay = this.delayOf(job, deliverAt)
    const status: EventStatus = delay > 0 ? 'delayed' : 'queued'
    const existing = await this.records.claim(job, status, delay > 0 ? deliverAt : undefined)
    if (!existing) {
      try {
        await this.enqueue(job, delay)
      } catch (err) {
        // Unless Redis is gone (then the record stays and a retry re-adds from it), let a retry start afresh.
        if (!isRedisUnavailable(err)) await this.records.release(job).catch(() => {})
        throw err
      }
      return { created: true, status }
    }
    // Queued or delayed with no job: the winner's add never reached Redis (a job that ran has
    // moved the record on; a canceled one says so). Adding it while the winner's add is in
    // flight is harmless: BullMQ keeps one job per id, and the worker honours the record. An
    // event that went in a batch job has no job of its own: it is added again, and the second
    // run writes nothing new (delivery is idempotent per message and user; a done record ends it).
    if (
      existing.payload &&
      (existing.status === 'queued' || existing.status === 'delayed') &&
      !(await this.queue.getJob(jobIdFor(job.source, job.id)))
    ) {
      const due = existing.deliverAt ?? 0
      await this.enqueue(existing.payload, Math.max(0, due - Date.now()))
    }
    return { created: false, status: (await this.view(job, existing))?.status ?? existing.status }
  }

  /**
   * Accepts a fresh event due now (an id minted by this request, that no caller knows before
   * its answer) that the caller then processes itself: its record, created already started,
   * and its job go out together — one round trip, where `accept` and a start take three. No
   * claim is needed (nothing can race an id nobody knows), and no cancel can find it before it
   * is started. The job is what makes it durable: if the add fails, this throws (and the record
   * is dropped, unless Redis is gone; a record left behind is never seen, and expires). If only
   * the record failed, the job still runs, and its start creates the record: `recorded` is false.
   */
  async acceptStarted(job: EventJob): Promise<{ recorded: boolean }> {
    const [recorded, added] = await Promise.allSettled([this.records.recordStarted(job), this.enqueue(job, 0)])
    if (added.status === 'rejected') {
      const err = added.reason as Error
      if (recorded.status === 'fulfilled' && !isRedisUnavailable(err)) await this.records.release(job).catch(() => {})
      throw err
    }
    return { recorded: recorded.status === 'fulfilled' }
  }

  /**
   * Cancels an event that has not started (queued, delayed, or waiting for a retry): its record
   * says canceled — what the worker checks before it writes anything — and its job is removed.
   * null for an unknown id (or another system's); NOT_CANCELABLE once it started or ended.
   */
  async cancel(event: EventRef): Promise<'canceled' | null> {
    const status = await this.records.cancel(event)
    if (status === null) return null
    if (status !== 'canceled') throw new NotifierErrors.NotCancelable(event.id, status)
    // The job may be taken by a worker at this moment (then it finds the record canceled and
    // writes nothing); a job already gone (removed before) is fine too.
    const job = await this.queue.getJob(jobIdFor(event.source, event.id))
    await job?.remove().catch(() => {})
    return 'canceled'
  }

  /**
   * Adds an internal job (no idempotency record: its id is derived from its `id`, so adding it
   * again while it is kept is a no-op).
   */
  async enqueueInternal(job: EventJob): Promise<void> {
    await this.queue.add(job.type, job, jobOptions(this.config, job, 0))
  }

  /** An event due now goes through the batcher (alone at a low rate); a delayed one alone. */
  private async enqueue(job: EventJob, delay: number): Promise<void> {
    if (delay === 0) await this.batcher.add(job)
    else await this.queue.add(job.type, job, jobOptions(this.config, job, delay))
  }

  /**
   * The event as `GET /v1/events/:id` shows it to the system that sent it (`source`): the
   * record, refined by the job's live state. null for an unknown id — and for another
   * system's event with that id.
   */
  async view(event: EventRef, known?: EventRecord): Promise<EventView | null> {
    const { id } = event
    let rec = known ?? (await this.records.get(event))
    if (!rec) return null
    let status = rec.status
    let error = rec.error
    if (!FINAL_STATUSES.has(status)) {
      const job = await this.queue.getJob(jobIdFor(event.source, id))
      if (job) {
        const state = await job.getState()
        // The job finished after the record was read: read it again for its message ids and error.
        if (state === 'completed' || state === 'failed') {
          rec = (await this.records.get(event)) ?? rec
          error = rec.error
        }
        if (state === 'completed') status = 'done'
        else if (state === 'failed') {
          status = 'failed'
          error ??= job.failedReason
        } else if (state === 'active') status = 'processing'
        else if (state === 'delayed') status = job.attemptsMade > 0 || rec.attempts > 0 ? 'queued' : 'delayed'
        // waiting but started: a message to everyone the API sent itself (its job walks the pushes)
        else if (state === 'waiting' || state === 'prioritized' || state === 'waiting-children')
          status = rec.status === 'processing' ? 'processing' : 'queued'
      }
    }
    return {
      id,
      type: rec.type,
      status,
      attempts: rec.attempts,
      messageIds: rec.messageIds,
      ...(error ? { error } : {}),
      acceptedAt: new Date(rec.acceptedAt).toISOString(),
      ...(rec.deliverAt ? { deliverAt: new Date(rec.deliverAt).toISOString() } : {}),
      ...(rec.payload?.expiresAt ? { expiresAt: new Date(rec.payload.expiresAt).toISOString() } : {}),
      source: rec.source,
    }
  }
}
