import { type EventJob, eventsOfBatch } from '@herald/contracts'
import type { Job, Queue, Worker } from 'bullmq'
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

type EventsJob = Job<EventJob, { messageIds: string[] }, string>

/** The queue states a scrape reports, as BullMQ's getJobCounts names them. */
const STATES = ['waiting', 'active', 'delayed', 'failed', 'prioritized', 'waiting-children'] as const

/**
 * The worker's Prometheus metrics, in `registry`:
 * - `herald_queue_jobs{state}` — jobs of the events queue per state, read from Redis at each
 *   scrape (the same numbers as /v1/stats); a scrape while Redis is away keeps the last values
 * - `herald_job_duration_seconds{type,outcome}` — time from a job's start to its end, per
 *   event type, completed or failed
 * - `herald_jobs_total{type,outcome}` — jobs finished by this worker (`herald.batch`: a job
 *   that carried several events, each with its own record)
 * - `herald_batch_events` — events per batch job this worker finished
 */
export function registerWorkerMetrics(
  registry: Registry,
  queue: Pick<Queue, 'getJobCounts'>,
  worker: Pick<Worker<EventJob, { messageIds: string[] }, string>, 'on'>,
  scrapeTimeoutMs = 1000,
): void {
  new Gauge({
    name: 'herald_queue_jobs',
    help: 'Jobs in the events queue, by state',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      const counts = await Promise.race([
        queue.getJobCounts(...STATES),
        new Promise<null>((resolve) => setTimeout(() => resolve(null), scrapeTimeoutMs).unref()),
      ]).catch(() => null)
      if (!counts) return
      for (const state of STATES) this.set({ state }, counts[state] ?? 0)
    },
  })
  const duration = new Histogram({
    name: 'herald_job_duration_seconds',
    help: 'Time from a job start to its end, by event type and outcome',
    labelNames: ['type', 'outcome'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  })
  const finished = new Counter({
    name: 'herald_jobs_total',
    help: 'Jobs this worker finished, by event type and outcome',
    labelNames: ['type', 'outcome'] as const,
    registers: [registry],
  })
  const batchSize = new Histogram({
    name: 'herald_batch_events',
    help: 'Events per batch job (herald.batch) this worker finished',
    buckets: [2, 5, 10, 20, 50, 100, 200, 500],
    registers: [registry],
  })
  const observe = (job: EventsJob | undefined, outcome: 'completed' | 'failed') => {
    if (!job) return
    const labels = { type: job.data.type, outcome }
    finished.inc(labels)
    const batch = eventsOfBatch(job.data)
    if (batch) batchSize.observe(batch.length)
    if (job.processedOn && job.finishedOn) duration.observe(labels, (job.finishedOn - job.processedOn) / 1000)
  }
  worker.on('completed', (job) => observe(job, 'completed'))
  worker.on('failed', (job) => observe(job, 'failed'))
}
