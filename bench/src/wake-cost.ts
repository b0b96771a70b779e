import { connect } from 'node:net'
import { parseArgs } from 'node:util'
import { startRedisServer } from '@herald/test-utils'

/**
 * `pnpm --filter @herald/bench wake-cost`: what one small socket write costs the writer on this
 * machine, to a redis-server of its own. The write (a PING) is timed around the `write` call
 * itself, first with Redis asleep (one every `--gap` ms), then with Redis busy (back to back).
 * The difference is the price of waking another process, which every hop between herald's
 * processes pays at low rates (BENCHMARKS.md, "What a wake-up costs here").
 */
const { values } = parseArgs({
  options: { count: { type: 'string', default: '200' }, gap: { type: 'string', default: '20' } },
})
const count = Math.min(Math.max(Number(values.count) || 200, 10), 5000)
const gapMs = Math.min(Math.max(Number(values.gap) || 20, 1), 1000)

const redis = await startRedisServer()
const socket = connect(redis.port, '127.0.0.1')
socket.setNoDelay(true)
await new Promise<void>((resolve, reject) => {
  socket.once('connect', resolve)
  socket.once('error', reject)
})
let replies = 0
let tail = ''
socket.on('data', (d) => {
  const text = tail + d.toString()
  replies += text.split('+PONG\r\n').length - 1
  tail = text.slice(text.lastIndexOf('\n') + 1)
})
const PING = '*1\r\n$4\r\nPING\r\n'

/** Microseconds spent inside `write`, for `n` writes `gap` ms apart (0: each on the next turn). */
async function timeWrites(n: number, gap: number): Promise<number[]> {
  const us: number[] = []
  for (let i = 0; i < n; i++) {
    await new Promise<void>((r) => (gap > 0 ? setTimeout(r, gap) : setImmediate(r)))
    const t0 = process.hrtime.bigint()
    socket.write(PING)
    us.push(Number(process.hrtime.bigint() - t0) / 1000)
  }
  return us.sort((a, b) => a - b)
}

const at = (sorted: number[], q: number) =>
  (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0).toFixed(1)
try {
  const asleep = await timeWrites(count, gapMs)
  const busy = await timeWrites(count * 10, 0)
  console.log(`one PING write to a redis-server (µs in write): median, p90`)
  console.log(`  Redis asleep (${count} writes, ${gapMs} ms apart): ${at(asleep, 0.5)}, ${at(asleep, 0.9)}`)
  console.log(`  Redis busy   (${count * 10} writes back to back): ${at(busy, 0.5)}, ${at(busy, 0.9)}`)
  for (let i = 0; i < 100 && replies < count * 11; i++) await new Promise((r) => setTimeout(r, 20))
  console.log(`  answered: ${replies} of ${count * 11}`)
} finally {
  socket.destroy()
  await redis.stop()
}
