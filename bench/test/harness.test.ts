import { describe, expect, it } from 'vitest'
import { runBench } from '../src/bench'
import { PROFILES } from '../src/context'

describe('bench harness', () => {
  it('delivers every message of a short fanout run on the bare-ws peer, none lost, duplicated or reordered', async () => {
    const results = await runBench({
      scenarios: ['fanout'],
      only: ['ws'],
      write: false,
      log: () => {},
      profile: {
        ...PROFILES.quick,
        sockets: 50,
        cycles: 1,
        fanoutRates: [100],
        stepMs: 1500,
        warmupRate: 200,
        warmupMs: 500,
      },
    })
    const runs = results.scenarios.fanout?.runs ?? []
    expect(runs.length).toBe(1)
    for (const r of runs) {
      expect(r.accepted).toBe(150)
      expect(r.delivered).toBe(150)
      expect({ lost: r.lost, duplicates: r.duplicates, reordered: r.reordered, failed: r.failed }).toEqual({
        lost: 0,
        duplicates: 0,
        reordered: 0,
        failed: 0,
      })
    }
  })
})
