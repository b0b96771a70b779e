import { describe, expect, it } from 'vitest'
import { sumSamples } from '../src/prom'
import { diffStats, parseCommandStats, totals } from '../src/redis-stats'

const EXPOSITION = `# HELP gateway_stream_entries_total Delivery-stream entries read
# TYPE gateway_stream_entries_total counter
gateway_stream_entries_total 42
# HELP gateway_messages_delivered_total Frames written
# TYPE gateway_messages_delivered_total counter
gateway_messages_delivered_total{kind="m"} 40
gateway_messages_delivered_total{kind="x"} 2
gateway_stream_entries_total_other 7
`

describe('bench counters', () => {
  it('sums a counter, all label sets or only the matching ones, and ignores names it only prefixes', () => {
    expect(sumSamples(EXPOSITION, 'gateway_stream_entries_total')).toBe(42)
    expect(sumSamples(EXPOSITION, 'gateway_messages_delivered_total')).toBe(42)
    expect(sumSamples(EXPOSITION, 'gateway_messages_delivered_total', { kind: 'm' })).toBe(40)
    expect(sumSamples(EXPOSITION, 'gateway_open_sockets')).toBe(0)
  })

  it('reads INFO commandstats without its own INFO calls and takes differences per command', () => {
    const before = parseCommandStats(
      '# Commandstats\r\ncmdstat_xadd:calls=10,usec=50,usec_per_call=5.00\r\ncmdstat_info:calls=3,usec=90\r\n',
    )
    const after = parseCommandStats(
      '# Commandstats\r\ncmdstat_xadd:calls=15,usec=80,usec_per_call=5.33\r\ncmdstat_xread:calls=4,usec=8\r\ncmdstat_info:calls=5,usec=150\r\n',
    )
    const d = diffStats(after, before)
    expect(d).toEqual({ xadd: { calls: 5, usec: 30 }, xread: { calls: 4, usec: 8 } })
    expect(totals(diffStats(after, before, d))).toEqual({ calls: 18, usec: 76 })
  })
})
