import { describe, expect, it } from 'vitest'
import { BATCH_JOB_TYPE, batchJob, type EventJob, eventsOfBatch, JobBatcher } from '../src'

describe('batch jobs', () => {
  it('carry their events, under an id no event job has', () => {
    const events = [1, 2].map((i) => ({
      id: `e-${i}`,
      type: 'order.shipped',
      data: {},
      occurredAt: '',
      acceptedAt: 0,
      source: 's',
    }))
    const b = batchJob(events, 1_000)
    expect(b).toMatchObject({ type: BATCH_JOB_TYPE, source: 'herald', acceptedAt: 1_000 })
    expect(b.id).toMatch(/^batch-[0-9a-f-]{36}$/)
    expect(eventsOfBatch(b)).toEqual(events)
    expect(eventsOfBatch(events[0] as EventJob)).toBeNull()
    expect(eventsOfBatch({ ...b, data: { events: 'x' } })).toEqual([])
  })
})

describe('JobBatcher', () => {
  /** Adds that wait until released, recording what each carried. */
  function gate() {
    const calls: string[][] = []
    const pending: Array<{ resolve: () => void; reject: (e: Error) => void }> = []
    const add = (ids: string[]) =>
      new Promise<void>((resolve, reject) => {
        calls.push(ids)
        pending.push({ resolve, reject })
      })
    return {
      calls,
      pending,
      add: (job: EventJob) => add(eventsOfBatch(job)?.map((e) => e.id) ?? [job.id]),
    }
  }
  const job = (id: string): EventJob => ({
    id,
    type: 'order.shipped',
    data: {},
    occurredAt: new Date().toISOString(),
    acceptedAt: Date.now(),
    source: 'test-system',
  })
  const turn = () => new Promise((r) => setImmediate(r))

  it('adds a lone event as its own job, and those accepted while an add is in flight as one batch', async () => {
    const g = gate()
    const b = new JobBatcher({ max: 3, timeoutMs: 1000, add: g.add })
    const first = b.add(job('a'))
    await turn()
    expect(g.calls).toEqual([['a']])
    const rest = ['b', 'c', 'd', 'e'].map((id) => b.add(job(id)))
    await turn()
    // nothing else goes while 'a' is in flight
    expect(g.calls).toEqual([['a']])
    expect(b.pending).toBe(4)
    g.pending[0]?.resolve()
    await first
    await turn()
    // at most 3 to a job; the fourth goes after them
    expect(g.calls).toEqual([['a'], ['b', 'c', 'd']])
    g.pending[1]?.resolve()
    await Promise.all(rest.slice(0, 3))
    await turn()
    expect(g.calls).toEqual([['a'], ['b', 'c', 'd'], ['e']])
    g.pending[2]?.resolve()
    await rest[3]
    expect(b.pending).toBe(0)
  })

  it('rejects exactly the events of an add that failed; the next ones still go', async () => {
    const g = gate()
    const b = new JobBatcher({ max: 10, timeoutMs: 1000, add: g.add })
    const a = b.add(job('a'))
    await turn()
    const bc = [b.add(job('b')), b.add(job('c'))]
    g.pending[0]?.reject(new Error('Connection is closed.'))
    await expect(a).rejects.toThrow('Connection is closed.')
    await turn()
    expect(g.calls[1]).toEqual(['b', 'c'])
    g.pending[1]?.resolve()
    await expect(Promise.all(bc)).resolves.toEqual([undefined, undefined])
  })

  it('adds every event alone when its max is 1', async () => {
    const g = gate()
    const b = new JobBatcher({ max: 1, timeoutMs: 1000, add: g.add })
    const all = ['a', 'b', 'c'].map((id) => b.add(job(id)))
    expect(g.calls).toEqual([['a'], ['b'], ['c']])
    for (const p of g.pending) p.resolve()
    await Promise.all(all)
  })

  it('fails the events of an add that does not answer in time, and lets the next add go', async () => {
    const g = gate()
    const b = new JobBatcher({ max: 10, timeoutMs: 50, add: g.add })
    const a = b.add(job('a'))
    await turn()
    const late = b.add(job('b'))
    await expect(a).rejects.toThrow('the queue did not answer within 50 ms')
    await turn()
    expect(g.calls).toEqual([['a'], ['b']])
    g.pending[1]?.resolve()
    await expect(late).resolves.toBeUndefined()
  })
})
