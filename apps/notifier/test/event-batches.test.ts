import { BATCH_JOB_TYPE, batchJob, type EventJob } from '@herald/contracts'
import { waitFor } from '@herald/test-utils'
import { Type } from 'typebox'
import { afterEach, describe, expect, it } from 'vitest'
import { createCatalog, EVENT_TYPES } from '../src/catalog'
import { defineEvent } from '../src/catalog/types'
import { createEventsQueue, jobOptions } from '../src/queue'
import { type Harness, harness, idFor, inboxIds } from './helpers'

let h: Harness
let queue: ReturnType<typeof createEventsQueue> | undefined
afterEach(async () => {
  await queue?.close()
  queue = undefined
  const open = h as Harness | undefined
  h = undefined as unknown as Harness
  await open?.close()
})

/** Adds a job to the events queue as a producer would. */
async function addJob(job: EventJob): Promise<void> {
  queue ??= createEventsQueue(h.redis, h.keys)
  await queue.add(job.type, job, jobOptions(h.config, job, 0))
}

const shipped = (id: string, userId: string) => ({
  id,
  type: 'order.shipped',
  data: { userId, orderId: `o-${id}`, carrier: 'DHL' },
})

const asJob = (e: { id: string; type: string; data: object }): EventJob => ({
  ...e,
  data: e.data as Record<string, unknown>,
  occurredAt: new Date().toISOString(),
  acceptedAt: Date.now(),
  source: 'test-system',
})

/** The types of the jobs the worker finished, in order, and the events they carried. */
function finishedTypes(worker: ReturnType<Harness['startWorker']>): string[] & { events: number } {
  const types = Object.assign([] as string[], { events: 0 })
  worker.worker.on('completed', (job) => {
    types.push(job.data.type)
    types.events += job.data.type === BATCH_JOB_TYPE ? (job.data.data.events as unknown[]).length : 1
  })
  worker.worker.on('failed', (job) => types.push(`failed:${job?.data.type}`))
  return types
}

describe('events accepted together go to the queue as one job', () => {
  it('delivers each of 40 events posted at once exactly once, in fewer jobs than events', async () => {
    const users = Array.from({ length: 40 }, (_, i) => `u${i}`)
    h = await harness({}, { online: users })
    const answers = await Promise.all(
      users.map((u, i) =>
        h.app.inject({ method: 'POST', url: '/v1/events', headers: h.auth(), payload: shipped(`b-${i}`, u) }),
      ),
    )
    expect(answers.map((r) => r.statusCode)).toEqual(users.map(() => 202))
    const w = h.startWorker()
    const jobs = finishedTypes(w)
    for (const [i, u] of users.entries()) {
      const view = await waitFor(async () => {
        const v = (await h.app.inject({ url: `/v1/events/b-${i}`, headers: h.auth() })).json()
        return v.status === 'done' ? v : null
      })
      expect(view).toMatchObject({ status: 'done', attempts: 1, messageIds: [idFor(`b-${i}`, u, h.keys)] })
      expect(await inboxIds(h.redis, h.keys, u)).toEqual([idFor(`b-${i}`, u, h.keys)])
    }
    // the 40 were added in fewer jobs, at least one of them a batch
    await waitFor(async () => (jobs.events >= 40 ? true : null))
    expect(jobs.events).toBe(40)
    expect(jobs.length).toBeLessThan(40)
    expect(jobs).toContain(BATCH_JOB_TYPE)
    expect(jobs.every((t) => !t.startsWith('failed'))).toBe(true)
    // one stream entry per message: nothing written twice
    expect(await h.entries()).toHaveLength(40)
    // a repeat of a batched event is still answered 200 with its record
    const again = await h.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: h.auth(),
      payload: shipped('b-3', 'u3'),
    })
    expect(again.statusCode).toBe(200)
    expect(again.json()).toEqual({ id: 'b-3', status: 'done' })
  })

  it('retries a batch whose event failed, and the retry runs only that event', async () => {
    let calls = 0
    const flaky = defineEvent({
      type: 'test.flaky',
      description: 'fails its first run',
      schema: Type.Object({ userId: Type.String() }),
      example: { userId: 'u1' },
      handle({ data }) {
        calls++
        if (calls === 1) throw new Error('boom once')
        return { to: 'users', messages: [{ userId: data.userId, kind: 'k', title: 't', body: 'b', data: {} }] }
      },
    })
    h = await harness(
      { JOB_ATTEMPTS: 3, JOB_BACKOFF_MS: 50 },
      { catalog: createCatalog([...EVENT_TYPES, flaky]), online: ['u1', 'u2', 'u3'] },
    )
    const events = [
      asJob(shipped('r-1', 'u1')),
      asJob({ id: 'r-2', type: 'test.flaky', data: { userId: 'u2' } }),
      asJob(shipped('r-3', 'u3')),
    ]
    const batch = batchJob(events)
    await addJob(batch)
    const w = h.startWorker()
    const jobs = finishedTypes(w)
    const view = await waitFor(async () => {
      const v = (await h.app.inject({ url: '/v1/events/r-2', headers: h.auth() })).json()
      return v.status === 'done' ? v : null
    })
    expect(view).toMatchObject({ attempts: 2, messageIds: [idFor('r-2', 'u2', h.keys)] })
    expect(view.error).toBeUndefined()
    for (const [id, u] of [
      ['r-1', 'u1'],
      ['r-3', 'u3'],
    ] as const) {
      const v = (await h.app.inject({ url: `/v1/events/${id}`, headers: h.auth() })).json()
      // done in the first run; the retry found the record done and wrote nothing
      expect(v).toMatchObject({ status: 'done', attempts: 1 })
      expect(await inboxIds(h.redis, h.keys, u)).toEqual([idFor(id, u, h.keys)])
    }
    expect(calls).toBe(2)
    expect(await h.entries()).toHaveLength(3)
    await waitFor(async () => (jobs.length >= 2 ? true : null))
    expect([...jobs]).toEqual([`failed:${BATCH_JOB_TYPE}`, BATCH_JOB_TYPE])
  })

  it('fails an event that cannot be run for good without failing the others of its batch', async () => {
    h = await harness({ JOB_ATTEMPTS: 3, JOB_BACKOFF_MS: 50 })
    const batch = batchJob([
      asJob(shipped('k-1', 'u1')),
      asJob({ id: 'k-2', type: 'nope.unknown', data: {} }),
      asJob({ id: 'k-3', type: 'order.shipped', data: { userId: 7, orderId: 'o' } }),
      asJob(shipped('k-4', 'u4')),
    ])
    await addJob(batch)
    const w = h.startWorker()
    const jobs = finishedTypes(w)
    await waitFor(async () => (jobs.length >= 1 ? true : null))
    expect([...jobs]).toEqual([BATCH_JOB_TYPE])
    expect(await inboxIds(h.redis, h.keys, 'u1')).toEqual([idFor('k-1', 'u1', h.keys)])
    expect(await inboxIds(h.redis, h.keys, 'u4')).toEqual([idFor('k-4', 'u4', h.keys)])
    const k2 = await h.redis.hgetall(h.keys.eventOf('test-system', 'k-2'))
    expect(k2).toMatchObject({ status: 'failed', error: 'Unknown event type "nope.unknown"' })
    const k3 = await h.redis.hgetall(h.keys.eventOf('test-system', 'k-3'))
    expect(k3.status).toBe('failed')
    expect(k3.error).toContain('data/userId must be string')
  })

  it('runs at most WORKER_CONCURRENCY events of a batch at once', async () => {
    let running = 0
    let most = 0
    const slow = defineEvent({
      type: 'test.slow',
      description: 'takes a while',
      schema: Type.Object({ userId: Type.String() }),
      example: { userId: 'u1' },
      async handle({ data }) {
        running++
        most = Math.max(most, running)
        await new Promise((r) => setTimeout(r, 30))
        running--
        return { to: 'users', messages: [{ userId: data.userId, kind: 'k', title: 't', body: 'b', data: {} }] }
      },
    })
    h = await harness({ WORKER_CONCURRENCY: 3 }, { catalog: createCatalog([...EVENT_TYPES, slow]) })
    const users = Array.from({ length: 10 }, (_, i) => `s${i}`)
    await addJob(batchJob(users.map((u, i) => asJob({ id: `s-${i}`, type: 'test.slow', data: { userId: u } }))))
    const w = h.startWorker()
    const jobs = finishedTypes(w)
    await waitFor(async () => (jobs.length >= 1 ? true : null), 10_000)
    expect([...jobs]).toEqual([BATCH_JOB_TYPE])
    expect(most).toBe(3)
    for (const [i, u] of users.entries())
      expect(await inboxIds(h.redis, h.keys, u)).toEqual([idFor(`s-${i}`, u, h.keys)])
  })
})
