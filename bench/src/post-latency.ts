import { parseArgs } from 'node:util'

/**
 * `pnpm --filter @herald/bench post-latency [--to all|one] [--count 300] [--gap 20]`: how long a
 * `POST /v1/messages` takes to be answered by a running herald (`pnpm stack`; `--url`, default
 * http://127.0.0.1:8080, and the service token in HERALD_TOKEN), one request at a time `--gap`
 * ms apart. A message to everyone is answered once it is sent, so this is the time to its send;
 * a small message to one user is answered once it is written. Prints p50, p90 and p99 of the
 * answers after 20 unmeasured ones.
 */
const { values } = parseArgs({
  options: {
    to: { type: 'string', default: 'all' },
    count: { type: 'string', default: '300' },
    gap: { type: 'string', default: '20' },
    url: { type: 'string', default: 'http://127.0.0.1:8080' },
  },
})
const token = process.env.HERALD_TOKEN
if (!token) throw new Error('HERALD_TOKEN must hold a service token with messages:write (pnpm stack prints one)')
if (values.to !== 'all' && values.to !== 'one') throw new Error('--to must be all or one')
const count = Math.min(Math.max(Number(values.count) || 300, 10), 10_000)
const gapMs = Math.min(Math.max(Number(values.gap) || 0, 0), 1000)
const WARM_UP = 20
const to = values.to === 'all' ? { all: true } : { userIds: ['u_post_latency'] }

const answers: number[] = []
for (let i = 0; i < count + WARM_UP; i++) {
  const started = performance.now()
  const res = await fetch(`${values.url}/v1/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ to, title: 'post-latency', body: `request ${i}` }),
    signal: AbortSignal.timeout(10_000),
  })
  await res.arrayBuffer()
  if (res.status !== 202) throw new Error(`POST /v1/messages answered ${res.status}`)
  if (i >= WARM_UP) answers.push(performance.now() - started)
  if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs))
}
answers.sort((a, b) => a - b)
const at = (q: number) => (answers[Math.floor(q * (answers.length - 1))] as number).toFixed(2)
console.log(
  `POST /v1/messages to ${values.to === 'all' ? 'everyone' : 'one user'}, ${count} one at a time ${gapMs} ms apart: p50 ${at(0.5)} p90 ${at(0.9)} p99 ${at(0.99)} ms`,
)
