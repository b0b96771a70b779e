import type { BenchResults } from './bench'
import type { DeliveryRun } from './context'
import { median } from './hist'
import type { AmplificationResult } from './scenarios/amplification'
import { ENTRIES_PER_MESSAGE_GOAL, REDIS_CPU_RATIO_GOAL } from './scenarios/amplification'
import { type FanoutResult, medianByCommand, medianCpuByProcess } from './scenarios/fanout'
import type { SystemName } from './systems'

const SYSTEMS: SystemName[] = ['herald', 'herald-cluster', 'ws', 'socketio', 'express-session']
/** the quotients shown beside the figures: herald ÷ each peer, herald on a Cluster ÷ herald on one Redis */
const RATIOS: [SystemName, SystemName][] = [
  ['herald', 'ws'],
  ['herald', 'socketio'],
  ['herald', 'express-session'],
  ['herald-cluster', 'herald'],
]

type Row = [string, string, Partial<Record<SystemName, number>>, 'higher' | 'lower']

const fmt = (v: number | undefined) =>
  v === undefined || Number.isNaN(v) ? '—' : v >= 100 ? String(Math.round(v)) : String(Math.round(v * 100) / 100)

/** The rows of the summary: one metric each, the absolute figures and herald ÷ each peer. */
function rows(r: BenchResults): Row[] {
  const out: Row[] = []
  const s = r.scenarios
  if (s.idle) {
    const pick = (k: 'upgradesPerSec' | 'rssPerSocket' | 'heapPerSocket' | 'cpuPctPer10k', scale = 1) =>
      Object.fromEntries(Object.entries(s.idle?.summary ?? {}).map(([n, v]) => [n, v[k] / scale]))
    out.push(['idle', 'authenticated upgrades/s (one replica)', pick('upgradesPerSec'), 'higher'])
    out.push(['idle', 'RSS per socket, KiB', pick('rssPerSocket', 1024), 'lower'])
    out.push(['idle', 'heap per socket, KiB', pick('heapPerSocket', 1024), 'lower'])
    out.push(['idle', '% of a core per 10k idle sockets (pings)', pick('cpuPctPer10k'), 'lower'])
  }
  if (s.fanout) {
    out.push([
      'fanout',
      'highest rate with p99 ≤ 50 ms (best of the cycles) and no loss, msg/s',
      s.fanout.maxRate,
      'higher',
    ])
    // every system ran the first step: the figures at equal offered load
    const first = s.fanout.steps[0]?.rate
    const at = (k: 'p50' | 'p99' | 'bestP99' | 'perCpuSec') =>
      Object.fromEntries(s.fanout?.steps.filter((x) => x.rate === first).map((x) => [x.system, x[k]]) ?? [])
    if (first !== undefined) {
      out.push(['fanout', `p50 ms at ${first} msg/s`, at('p50'), 'lower'])
      out.push(['fanout', `p99 ms at ${first} msg/s (median of cycles)`, at('p99'), 'lower'])
      out.push(['fanout', `p99 ms at ${first} msg/s (best cycle)`, at('bestP99'), 'lower'])
      out.push(['fanout', `delivered per server CPU-second at ${first} msg/s`, at('perCpuSec'), 'higher'])
    }
  }
  if (s.fanoutCluster) {
    out.push([
      'fanout-cluster',
      'highest rate with p99 ≤ 50 ms (best of the cycles) and no loss, msg/s',
      s.fanoutCluster.maxRate,
      'higher',
    ])
    const first = s.fanoutCluster.steps[0]?.rate
    const at = (k: 'p50' | 'p99' | 'perCpuSec') =>
      Object.fromEntries(s.fanoutCluster?.steps.filter((x) => x.rate === first).map((x) => [x.system, x[k]]) ?? [])
    if (first !== undefined) {
      out.push(['fanout-cluster', `p50 ms at ${first} msg/s`, at('p50'), 'lower'])
      out.push(['fanout-cluster', `p99 ms at ${first} msg/s (median of cycles)`, at('p99'), 'lower'])
      out.push(['fanout-cluster', `delivered per server CPU-second at ${first} msg/s`, at('perCpuSec'), 'higher'])
    }
  }
  for (const [label, b] of [
    ['broadcast', s.broadcast],
    ['broadcast-cluster', s.broadcastCluster],
  ] as const) {
    if (!b) continue
    out.push([label, 'deliveries/s (sockets reached per second)', b.deliveriesPerSec, 'higher'])
    out.push([label, 'p99 ms, send → receipt', b.p99, 'lower'])
    out.push([label, 'ms from send to the first socket reached', b.firstSocketMs, 'lower'])
  }
  if (s.notify) {
    for (const st of s.notify.steps) {
      // not held: messages lost, or requests the generator could not send or the API refused
      const verdict = st.held
        ? ''
        : st.lost > 0
          ? `, ${st.lost} messages lost: FAILED`
          : ', not every request sent: FAILED'
      out.push([
        'notify-e2e',
        `${st.rate} events/s: p50 ${st.p50} ms, p99 (herald only${verdict})`,
        { herald: st.p99 },
        'lower',
      ])
    }
  }
  if (s.auth) {
    out.push(['auth', 'GET /auth/me req/s with p99 ≤ 20 ms (best of the cycles)', s.auth.maxRate.me, 'higher'])
    out.push([
      'auth',
      'code + login flows/s with p99 ≤ 20 ms (3 requests each, best of the cycles)',
      s.auth.maxRate.login,
      'higher',
    ])
  }
  return out
}

/** A Markdown table: absolute figures, then herald ÷ peer (for "lower is better" rows too, as is). */
export function markdownTable(r: BenchResults): string {
  const present = SYSTEMS.filter((n) => r.systems.includes(n))
  const pairs = RATIOS.filter(([a, b]) => present.includes(a) && present.includes(b))
  const head = ['scenario', 'metric', ...present, ...pairs.map(([a, b]) => `${a} ÷ ${b}`)]
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`]
  const all = rows(r)
  if (all.length === 0) return ''
  for (const [scenario, metric, values, better] of all) {
    const ratios = pairs.map(([a, b]) => {
      const h = values[a]
      const v = values[b]
      if (h === undefined || v === undefined || v === 0) return '—'
      return `${(h / v).toFixed(2)}×`
    })
    const arrow = better === 'higher' ? ' ↑' : ' ↓'
    lines.push(
      `| ${scenario} | ${metric}${arrow} | ${present.map((n) => fmt(values[n])).join(' | ')} | ${ratios.join(' | ')} |`,
    )
  }
  return lines.join('\n')
}

/** the process kinds, in the order of the path a message takes */
const PROCESS_KINDS = [
  'nginx',
  'notifier API',
  'worker',
  'replicas (API + sockets)',
  'replicas (HTTP)',
  'redis-server',
  'gateways',
  'auth',
]

/**
 * Which process pays: server CPU per delivered message (ms) by kind of process, for fanout at
 * the first rate and at the highest rate every system ran, broadcast (per socket reached) and
 * notify-e2e (at its highest rate that held).
 */
export function cpuByProcessTable(r: BenchResults): string {
  const s = r.scenarios
  const cases: {
    scenario: string
    system: SystemName
    cpu: Record<string, number>
    calls: number
    byCommand: DeliveryRun['redisByCommand']
  }[] = []
  const fanoutAt = (label: string, steps: FanoutResult['steps']) => {
    const first = steps[0]?.rate
    const names = [...new Set(steps.map((x) => x.system))]
    const common = [...new Set(steps.map((x) => x.rate))].filter((rate) =>
      names.every((n) => steps.some((x) => x.system === n && x.rate === rate)),
    )
    for (const rate of new Set([first, common.at(-1)])) {
      for (const x of steps.filter((y) => y.rate === rate))
        cases.push({
          scenario: `${label} ${rate} msg/s`,
          system: x.system,
          cpu: x.cpuMsPerDelivered,
          calls: x.redisCallsPerDelivered,
          byCommand: x.redisByCommand,
        })
    }
  }
  if (s.fanout) fanoutAt('fanout', s.fanout.steps)
  if (s.fanoutCluster) fanoutAt('fanout-cluster', s.fanoutCluster.steps)
  for (const [label, b] of [
    ['broadcast', s.broadcast],
    ['broadcast-cluster', s.broadcastCluster],
  ] as const) {
    if (!b) continue
    for (const n of Object.keys(b.deliveriesPerSec) as SystemName[]) {
      const mine = b.runs.filter((x) => x.system === n)
      cases.push({
        scenario: `${label} (per socket reached)`,
        system: n,
        cpu: medianCpuByProcess(mine),
        calls: median(mine.map((x) => x.redisCallsPerDelivered)),
        byCommand: medianByCommand(mine),
      })
    }
  }
  const held = s.notify?.steps.filter((x) => x.held).at(-1)
  if (held)
    cases.push({
      scenario: `notify-e2e ${held.rate} events/s`,
      system: 'herald',
      cpu: held.cpuMsPerDelivered,
      calls: held.redisCallsPerDelivered,
      byCommand: held.redisByCommand,
    })
  if (cases.length === 0) return ''
  const kinds = PROCESS_KINDS.filter((k) => cases.some((c) => c.cpu[k] !== undefined))
  const head = ['scenario', 'system', ...kinds, 'total', 'Redis commands per message']
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`]
  const ms = (v: number) => v.toFixed(3)
  for (const c of cases) {
    const total = Object.values(c.cpu).reduce((a, b) => a + b, 0)
    const cells = kinds.map((k) => (c.cpu[k] === undefined ? '—' : ms(c.cpu[k] as number)))
    lines.push(`| ${c.scenario} | ${c.system} | ${cells.join(' | ')} | ${ms(total)} | ${fmt(c.calls)} |`)
  }
  // where herald's Redis commands go: calls (and Redis's own µs) per delivered message, by command
  const herald = cases.filter((c) => c.system.startsWith('herald') && c.byCommand?.length)
  const byCommand = herald.map(
    (c) =>
      `| ${c.scenario} | ${c.system} | ${fmt(c.calls)} | ${c.byCommand
        .slice(0, 12)
        .map(([name, calls, usec]) => `${name} ${calls} (${usec} µs)`)
        .join(', ')} |`,
  )
  const commands =
    byCommand.length === 0
      ? ''
      : `\n\nRedis commands per delivered message by command, herald (calls, and Redis's own µs, per message; ≥ 0.1 per message) ↓\n\n| scenario | system | total | by command |\n|---|---|---|---|\n${byCommand.join('\n')}`
  return `Server CPU per delivered message, ms, by process ↓\n\n${lines.join('\n')}${commands}`
}

/**
 * The fanout systems at rest: every socket open, no message sent, CPU ms per second by kind of
 * process — what a low rate's CPU per message carries before its first message.
 */
export function atRestTable(r: BenchResults): string {
  const rest = r.scenarios.fanout?.atRest
  if (!rest || Object.keys(rest).length === 0) return ''
  const names = SYSTEMS.filter((n) => rest[n])
  const kinds = PROCESS_KINDS.filter((k) => names.some((n) => rest[n]?.[k] !== undefined))
  const head = ['system', ...kinds, 'total']
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`]
  for (const n of names) {
    const cpu = rest[n] ?? {}
    const total = Object.values(cpu).reduce((a, b) => a + b, 0)
    lines.push(`| ${n} | ${kinds.map((k) => (cpu[k] === undefined ? '—' : fmt(cpu[k]))).join(' | ')} | ${fmt(total)} |`)
  }
  return `Server CPU at rest, ms per second, by process (fanout's sockets open, nothing sent) ↓\n\n${lines.join('\n')}`
}

/** The amplification figures: one column per gateway count, the last ÷ the first, the goal and whether it held. */
export function amplificationTable(a: AmplificationResult): string {
  const first = a.sides[0]
  const last = a.sides.at(-1)
  if (!first || !last) return ''
  const head = [
    'metric',
    ...a.sides.map((s) => `G = ${s.gateways}`),
    `G=${last.gateways} ÷ G=${first.gateways}`,
    'goal',
    'held',
  ]
  const yes = (b: boolean) => (b ? 'yes' : '**no**')
  const ratio = (x: number, y: number) => (y > 0 ? `${(x / y).toFixed(2)}×` : '—')
  const line = (metric: string, vals: (number | string)[], q: string, goal: string, held: string) =>
    `| ${[metric, ...vals.map((v) => (typeof v === 'number' ? fmt(v) : v)), q, goal, held].join(' | ')} |`
  const lines = [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    line(
      'stream entries read per delivered message ↓',
      a.sides.map((s) => s.entriesPerDelivered),
      ratio(last.entriesPerDelivered, first.entriesPerDelivered),
      `≤ ${ENTRIES_PER_MESSAGE_GOAL} at each G`,
      yes(a.goals.entries),
    ),
    line(
      'stream entries read for messages to offline users ↓',
      a.sides.map((s) => `${s.offlineEntries} of ${s.offlineSent} sent`),
      '—',
      '0',
      yes(a.goals.offline),
    ),
    line(
      'Redis CPU per delivered message, µs ↓',
      a.sides.map((s) => s.redisCpuUsPerDelivered),
      `${a.redisCpuRatio.toFixed(2)}×`,
      `≤ ${REDIS_CPU_RATIO_GOAL}×`,
      yes(a.goals.redisCpu),
    ),
    line(
      'the same less Redis idle CPU over the same time, µs ↓',
      a.sides.map((s) => s.redisCpuUsPerDeliveredNet),
      `${a.redisCpuRatioNet.toFixed(2)}×`,
      '—',
      '—',
    ),
    line(
      "Redis commands per delivered message (scripts' inner calls too)",
      a.sides.map((s) => s.redisCallsPerDelivered),
      ratio(last.redisCallsPerDelivered, first.redisCallsPerDelivered),
      '—',
      '—',
    ),
    line(
      'Redis idle, % of a core (sockets open, no messages)',
      a.sides.map((s) => s.idleRedisCpuPct),
      '—',
      '—',
      '—',
    ),
    line(
      'frames written per delivered message',
      a.sides.map((s) => s.framesPerDelivered),
      '—',
      '—',
      '—',
    ),
    line(
      'messages delivered (measured cycles) / lost / duplicated',
      a.sides.map((s) => `${s.delivered} / ${s.lost} / ${s.duplicates}`),
      '—',
      '0 lost, 0 duplicated',
      yes(a.goals.nothingLost),
    ),
    line(
      'sockets per gateway replica (min–max)',
      a.sides.map((s) => `${s.socketsPerReplica[0]}–${s.socketsPerReplica[1]}`),
      '—',
      '—',
      '—',
    ),
  ]
  return lines.join('\n')
}

const COLORS: Record<SystemName, string> = {
  herald: '#d62728',
  'herald-cluster': '#ff7f0e',
  ws: '#1f77b4',
  socketio: '#2ca02c',
  'express-session': '#9467bd',
}

export interface Series {
  name: SystemName
  /** y: best cycle's p99; median: the median of the cycles' p99 (dashed) */
  points: { x: number; y: number; median?: number; held: boolean }[]
}

/** A hand-written SVG: p99 (log scale) against offered rate, one line per system, the limit dashed. */
export function latencySvg(title: string, series: Series[], limitMs: number, xLabel: string): string {
  const W = 720
  const H = 420
  const m = { l: 70, r: 150, t: 40, b: 55 }
  const xs = series.flatMap((s) => s.points.map((p) => p.x))
  const ys = series.flatMap((s) => s.points.flatMap((p) => [p.y, p.median ?? p.y])).filter((y) => y > 0)
  const xMax = Math.max(1, ...xs) * 1.05
  const yMin = Math.max(0.1, Math.min(limitMs / 10, ...ys) / 1.5)
  const yMax = Math.max(limitMs * 2, ...ys) * 1.5
  const px = (x: number) => m.l + (x / xMax) * (W - m.l - m.r)
  const py = (y: number) =>
    H -
    m.b -
    ((Math.log10(Math.max(y, yMin)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * (H - m.t - m.b)
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12" role="img">`,
    `<title>${title}</title>`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2 - m.r / 2}" y="22" text-anchor="middle" font-size="15">${title}</text>`,
    `<line x1="${m.l}" y1="${H - m.b}" x2="${W - m.r}" y2="${H - m.b}" stroke="#333"/>`,
    `<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${H - m.b}" stroke="#333"/>`,
  ]
  for (let e = Math.floor(Math.log10(yMin)); e <= Math.ceil(Math.log10(yMax)); e++) {
    for (const k of [1, 2, 5]) {
      const v = k * 10 ** e
      if (v < yMin || v > yMax) continue
      const y = py(v).toFixed(1)
      parts.push(`<line x1="${m.l}" y1="${y}" x2="${W - m.r}" y2="${y}" stroke="#eee"/>`)
      parts.push(`<text x="${m.l - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${v}</text>`)
    }
  }
  const step = 10 ** Math.floor(Math.log10(xMax / 2))
  const tick = xMax / step > 10 ? step * 2 : step
  for (let x = 0; x <= xMax; x += tick) {
    parts.push(`<text x="${px(x).toFixed(1)}" y="${H - m.b + 18}" text-anchor="middle">${x}</text>`)
  }
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 12}" text-anchor="middle">${xLabel}</text>`)
  parts.push(
    `<text transform="translate(18 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">p99 latency, ms (log)</text>`,
  )
  const ly = py(limitMs).toFixed(1)
  parts.push(`<line x1="${m.l}" y1="${ly}" x2="${W - m.r}" y2="${ly}" stroke="#888" stroke-dasharray="6 4"/>`)
  parts.push(`<text x="${W - m.r - 4}" y="${Number(ly) - 5}" text-anchor="end" fill="#666">limit ${limitMs} ms</text>`)
  series.forEach((s, i) => {
    const c = COLORS[s.name]
    const pts = s.points.map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(' ')
    parts.push(`<polyline points="${pts}" fill="none" stroke="${c}" stroke-width="2"/>`)
    const med = s.points.filter((p) => p.median !== undefined)
    if (med.length > 0) {
      const mp = med.map((p) => `${px(p.x).toFixed(1)},${py(p.median as number).toFixed(1)}`).join(' ')
      parts.push(`<polyline points="${mp}" fill="none" stroke="${c}" stroke-width="1" stroke-dasharray="3 3"/>`)
    }
    for (const p of s.points) {
      const fill = p.held ? c : '#fff'
      parts.push(
        `<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="4" fill="${fill}" stroke="${c}" stroke-width="2"/>`,
      )
    }
    const ly2 = m.t + 10 + i * 22
    parts.push(
      `<line x1="${W - m.r + 15}" y1="${ly2}" x2="${W - m.r + 40}" y2="${ly2}" stroke="${c}" stroke-width="2"/>`,
    )
    parts.push(`<text x="${W - m.r + 46}" y="${ly2}" dominant-baseline="middle">${s.name}</text>`)
  })
  parts.push(
    `<text x="${W - m.r + 15}" y="${m.t + 10 + series.length * 22 + 10}" fill="#666">solid: best cycle</text>`,
    `<text x="${W - m.r + 15}" y="${m.t + 10 + series.length * 22 + 26}" fill="#666">dashed: median</text>`,
    `<text x="${W - m.r + 15}" y="${m.t + 10 + series.length * 22 + 42}" fill="#666">open dot: failed step</text>`,
  )
  parts.push('</svg>')
  return `${parts.join('\n')}\n`
}
