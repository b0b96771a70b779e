import { join } from 'node:path'
import { sleep } from '@herald/test-utils'
import { Redis } from 'ioredis'
import { type ClientsReport, type Ctx, type Tally, tally } from '../context'
import { Generator, generatorLagged } from '../loadgen/ipc'
import type { RunResult } from '../loadgen/sender'
import { totalCpuSeconds } from '../proc'
import { scrape, sumSamples } from '../prom'
import { type CommandStats, commandStats, diffStats, totals } from '../redis-stats'
import { BENCH_DIR, type HeraldSystem, startHerald, type User } from '../systems'

/** Issue 11's goals: entries read per delivered message at every G, and Redis CPU at the largest G against the smallest. */
export const ENTRIES_PER_MESSAGE_GOAL = 1.05
export const REDIS_CPU_RATIO_GOAL = 1.2

/** cycle 0 is the warm-up, not counted; delivered: distinct messages the clients received */
export interface AmplificationRun extends Tally {
  gateways: number
  cycle: number
  /** sum over the replicas of gateway_stream_entries_total, after − before */
  entriesRead: number
  /** sum over the replicas of gateway_messages_delivered_total{kind="m"} */
  framesWritten: number
  /** utime+stime of the redis-server process(es) over the run and its drain */
  redisCpuSec: number
  /** per command, as Redis counts it (commands run inside scripts count too) */
  commands: CommandStats
  wallSec: number
  p99: number
  lagged: boolean
}

export interface OfflineRun {
  gateways: number
  accepted: number
  failed: number
  entriesRead: number
}

export interface AmplificationSide {
  gateways: number
  /** sockets each replica held (gateway_open_sockets), lowest and highest */
  socketsPerReplica: [number, number]
  /** Redis CPU with the sockets open and no message sent, % of one core */
  idleRedisCpuPct: number
  delivered: number
  /** pooled over the measured cycles: Σ entries read ÷ Σ delivered */
  entriesPerDelivered: number
  framesPerDelivered: number
  /** pooled: Σ Redis CPU ÷ Σ delivered, µs */
  redisCpuUsPerDelivered: number
  /** the same less the idle figure over the same wall time */
  redisCpuUsPerDeliveredNet: number
  /** Redis commands per delivered message (INFO commandstats; commands inside scripts count too) */
  redisCallsPerDelivered: number
  /** the same per command, pooled over the measured cycles */
  callsPerDeliveredByCommand: Record<string, number>
  offlineSent: number
  offlineEntries: number
  lost: number
  duplicates: number
}

export interface AmplificationResult {
  users: number
  offlineUsers: number
  rate: number
  durationMs: number
  runs: AmplificationRun[]
  offline: OfflineRun[]
  sides: AmplificationSide[]
  /** the largest G's Redis CPU per delivered message ÷ the smallest G's */
  redisCpuRatio: number
  redisCpuRatioNet: number
  goals: { entries: boolean; offline: boolean; redisCpu: boolean; nothingLost: boolean }
}

interface Side {
  g: number
  sys: HeraldSystem
  clients: Generator
  online: User[]
  offline: User[]
  idlePct: number
  sockets: number[]
  /** one connection per data node, for INFO */
  nodes: Redis[]
}

interface Counters {
  entries: number
  frames: number
  redisCpu: number
  commands: CommandStats
}

async function counters(side: Side): Promise<Counters> {
  const { sys } = side
  const [texts, commands] = await Promise.all([scrape(sys.gatewayMetricsUrls), commandStats(side.nodes)])
  return {
    commands,
    entries: texts.reduce((a, t) => a + sumSamples(t, 'gateway_stream_entries_total'), 0),
    frames: texts.reduce((a, t) => a + sumSamples(t, 'gateway_messages_delivered_total', { kind: 'm' }), 0),
    redisCpu: totalCpuSeconds(sys.redisPids()),
  }
}

function shuffled(n: number): number[] {
  const a = Array.from({ length: n }, (_, i) => i)
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[a[i], a[j]] = [a[j] as number, a[i] as number]
  }
  return a
}

async function setUp(ctx: Ctx, dir: string, g: number): Promise<Side> {
  const { profile } = ctx
  const t = Date.now()
  const sys = await startHerald({ dir: join(dir, `g${g}`), pingMs: profile.pingMs, replicas: g })
  const clients = new Generator(join(BENCH_DIR, 'src/loadgen/clients.ts'), `clients-herald-g${g}`)
  const nodes = sys.redisPorts().map((port) => new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1 }))
  const side: Side = { g, sys, clients, online: [], offline: [], idlePct: 0, sockets: [], nodes }
  try {
    const users = await sys.users(profile.ampUsers + profile.ampOffline)
    side.online = users.slice(0, profile.ampUsers)
    side.offline = users.slice(profile.ampUsers)
    const r = await clients.call<{ connected: number; failed: number }>(
      {
        cmd: 'connect',
        proto: 'herald',
        acks: sys.acks,
        urls: [sys.wsUrl],
        tokens: side.online.map((u) => u.token),
        concurrency: 32,
      },
      180_000,
    )
    if (r.failed > 0) throw new Error(`G=${g}: ${r.failed} of ${side.online.length} sockets failed to connect`)
    side.sockets = (await scrape(sys.gatewayMetricsUrls)).map((t) => sumSamples(t, 'gateway_open_sockets'))
    const cpu0 = totalCpuSeconds(sys.redisPids())
    const w0 = Date.now()
    await sleep(5000)
    side.idlePct = ((totalCpuSeconds(sys.redisPids()) - cpu0) / ((Date.now() - w0) / 1000)) * 100
    ctx.log(
      `  G=${g}: herald with ${g} gateways up, ${r.connected} sockets through nginx ` +
        `(${Math.min(...side.sockets)}–${Math.max(...side.sockets)} per replica), ${side.offline.length} offline users, ` +
        `Redis idle ${side.idlePct.toFixed(1)} % of a core, in ${((Date.now() - t) / 1000).toFixed(0)} s`,
    )
    return side
  } catch (err) {
    await tearDown(side)
    throw err
  }
}

async function tearDown(side: Side): Promise<void> {
  await side.clients.call({ cmd: 'disconnect' }).catch(() => {})
  await side.clients.stop()
  for (const n of side.nodes) n.disconnect()
  await side.sys.stop()
}

/** One open-loop run to random online users; counts on the clients and on the gateways, Redis CPU from /proc. */
async function onlineRun(ctx: Ctx, side: Side, cycle: number): Promise<AmplificationRun> {
  const { profile } = ctx
  const order = shuffled(side.online.length)
  await side.clients.call({ cmd: 'reset' })
  const before = await counters(side)
  const w0 = Date.now()
  const sent = await ctx.sender.call<RunResult>(
    {
      cmd: 'run',
      kind: 'messages',
      base: side.sys.url,
      rate: profile.ampRate,
      durationMs: profile.ampMs,
      token: side.sys.serviceToken,
      targets: order.map((i) => (side.online[i] as User).id),
      tag: ctx.tag(),
    },
    profile.ampMs + 60_000,
  )
  const until = Date.now() + profile.drainMs
  while (Date.now() < until) {
    const p = await side.clients.call<{ unique: number }>({ cmd: 'progress' })
    if (p.unique >= sent.ok) break
    await sleep(25)
  }
  const after = await counters(side)
  const wallSec = (Date.now() - w0) / 1000
  const c = await side.clients.call<ClientsReport>({ cmd: 'collect' })
  // the sender addressed the users in `order`; the clients count by socket
  const expected = new Array<number>(side.online.length).fill(0)
  order.forEach((i, j) => {
    expected[i] = sent.perTarget[j] ?? 0
  })
  const run: AmplificationRun = {
    gateways: side.g,
    cycle,
    ...tally(sent, c, expected),
    entriesRead: after.entries - before.entries,
    framesWritten: after.frames - before.frames,
    redisCpuSec: Math.round((after.redisCpu - before.redisCpu) * 1000) / 1000,
    commands: diffStats(after.commands, before.commands),
    wallSec: Math.round(wallSec * 100) / 100,
    p99: c.latency.p99,
    lagged: generatorLagged(c.health) || generatorLagged(sent.health),
  }
  const per = run.delivered > 0 ? run.entriesRead / run.delivered : Number.NaN
  ctx.log(
    `  ${cycle === 0 ? 'warm-up ' : `cycle ${cycle} `}G=${String(side.g).padEnd(2)} ${profile.ampRate}/s: ` +
      `${run.delivered} delivered, ${run.entriesRead} entries read (${per.toFixed(3)}/msg), ` +
      `${run.framesWritten} frames, Redis ${run.redisCpuSec} CPU-s ` +
      `(${run.delivered > 0 ? Math.round((run.redisCpuSec * 1e6) / run.delivered) : '—'} µs/msg), ` +
      `p99 ${run.p99} ms, lost ${run.lost}, dup ${run.duplicates}, failed ${run.failed}${run.lagged ? ' [GENERATOR LAGGED]' : ''}`,
  )
  return run
}

/** Messages to users with no socket: the inbox keeps them, no gateway should read an entry. */
async function offlineRun(ctx: Ctx, side: Side): Promise<OfflineRun> {
  const { profile } = ctx
  const before = await counters(side)
  const sent = await ctx.sender.call<RunResult>(
    {
      cmd: 'run',
      kind: 'messages',
      base: side.sys.url,
      rate: profile.ampRate,
      durationMs: profile.ampMs / 2,
      token: side.sys.serviceToken,
      targets: side.offline.map((u) => u.id),
      tag: ctx.tag(),
    },
    profile.ampMs + 60_000,
  )
  // anything a gateway were sent would be read within milliseconds; leave it a second
  await sleep(1000)
  const after = await counters(side)
  const run = {
    gateways: side.g,
    accepted: sent.ok,
    failed: sent.failed + sent.dropped,
    entriesRead: after.entries - before.entries,
  }
  ctx.log(
    `  offline G=${String(side.g).padEnd(2)}: ${run.accepted} messages accepted for ${side.offline.length} users ` +
      `without a socket, ${run.entriesRead} stream entries read, failed ${run.failed}`,
  )
  return run
}

function summarise(side: Side, runs: AmplificationRun[], off: OfflineRun | undefined): AmplificationSide {
  const mine = runs.filter((r) => r.gateways === side.g && r.cycle > 0)
  const sum = (f: (r: AmplificationRun) => number) => mine.reduce((a, r) => a + f(r), 0)
  const delivered = sum((r) => r.delivered)
  const cpu = sum((r) => r.redisCpuSec)
  const idleCpu = (side.idlePct / 100) * sum((r) => r.wallSec)
  const per = (x: number) => (delivered > 0 ? x / delivered : Number.NaN)
  const commands = mine.reduce<CommandStats>((a, r) => diffStats(r.commands, {}, a), {})
  const byCommand = Object.entries(commands)
    .sort((a, b) => b[1].calls - a[1].calls)
    .map(([name, c]) => [name, Math.round(per(c.calls) * 100) / 100] as const)
  return {
    gateways: side.g,
    socketsPerReplica: [Math.min(...side.sockets), Math.max(...side.sockets)],
    idleRedisCpuPct: Math.round(side.idlePct * 100) / 100,
    delivered,
    entriesPerDelivered: Math.round(per(sum((r) => r.entriesRead)) * 1000) / 1000,
    framesPerDelivered: Math.round(per(sum((r) => r.framesWritten)) * 1000) / 1000,
    redisCpuUsPerDelivered: Math.round(per(cpu) * 1e6 * 10) / 10,
    redisCpuUsPerDeliveredNet: Math.round(per(cpu - idleCpu) * 1e6 * 10) / 10,
    redisCallsPerDelivered: Math.round(per(totals(commands).calls) * 100) / 100,
    callsPerDeliveredByCommand: Object.fromEntries(byCommand),
    offlineSent: off?.accepted ?? 0,
    offlineEntries: off?.entriesRead ?? Number.NaN,
    lost: sum((r) => r.lost),
    duplicates: sum((r) => r.duplicates),
  }
}

/**
 * Read amplification of the delivery path (issue 11). herald runs at each gateway count of
 * the profile side by side (each its own Redis, nginx, auth, notifier and worker), every
 * user with one socket through nginx (round-robin over the replicas). A run sends
 * `ampRate` messages per second, each to one random online user; the counts are the
 * gateways' own (gateway_stream_entries_total, gateway_messages_delivered_total{kind="m"})
 * and what the clients received; Redis CPU is utime+stime from /proc. The stacks take turns
 * cycle by cycle, so that drift on the shared machine hits them alike. Last, a phase of
 * messages to users who never connected: no gateway should read anything.
 */
export async function amplification(ctx: Ctx, dir: string): Promise<AmplificationResult> {
  const { profile } = ctx
  ctx.log(
    `amplification: herald at G = ${profile.ampGateways.join(', ')} gateways, ${profile.ampUsers} users with a socket ` +
      `+ ${profile.ampOffline} without, ${profile.ampRate} msg/s for ${profile.ampMs / 1000} s per run`,
  )
  const sides: Side[] = []
  const runs: AmplificationRun[] = []
  const offline: OfflineRun[] = []
  try {
    for (const g of profile.ampGateways) sides.push(await setUp(ctx, dir, g))
    for (let c = 0; c <= profile.cycles; c++) {
      for (const s of sides) runs.push(await onlineRun(ctx, s, c))
    }
    for (const s of sides) offline.push(await offlineRun(ctx, s))
  } finally {
    for (const s of sides) await tearDown(s).catch(() => {})
  }
  const summary = sides.map((s) =>
    summarise(
      s,
      runs,
      offline.find((o) => o.gateways === s.g),
    ),
  )
  const first = summary[0] as AmplificationSide
  const last = summary.at(-1) as AmplificationSide
  const ratio = (k: 'redisCpuUsPerDelivered' | 'redisCpuUsPerDeliveredNet') =>
    Math.round((last[k] / first[k]) * 100) / 100
  const result: AmplificationResult = {
    users: profile.ampUsers,
    offlineUsers: profile.ampOffline,
    rate: profile.ampRate,
    durationMs: profile.ampMs,
    runs,
    offline,
    sides: summary,
    redisCpuRatio: ratio('redisCpuUsPerDelivered'),
    redisCpuRatioNet: ratio('redisCpuUsPerDeliveredNet'),
    goals: {
      entries: summary.every((s) => s.entriesPerDelivered <= ENTRIES_PER_MESSAGE_GOAL),
      offline: summary.every((s) => s.offlineEntries === 0),
      redisCpu: ratio('redisCpuUsPerDelivered') <= REDIS_CPU_RATIO_GOAL,
      nothingLost: summary.every((s) => s.lost === 0 && s.duplicates === 0),
    },
  }
  for (const s of summary) {
    ctx.log(
      `  G=${s.gateways}: ${s.entriesPerDelivered} entries read per delivered message (goal ≤ ${ENTRIES_PER_MESSAGE_GOAL}), ` +
        `${s.offlineEntries} read for ${s.offlineSent} offline messages (goal 0), ` +
        `Redis ${s.redisCpuUsPerDelivered} µs/msg (${s.redisCpuUsPerDeliveredNet} net of idle), ` +
        `${s.redisCallsPerDelivered} Redis commands/msg (${Object.entries(s.callsPerDeliveredByCommand)
          .slice(0, 8)
          .map(([n, c]) => `${n} ${c}`)
          .join(', ')})`,
    )
  }
  ctx.log(
    `  Redis CPU per delivered message G=${last.gateways} ÷ G=${first.gateways}: ${result.redisCpuRatio}× ` +
      `(net of idle ${result.redisCpuRatioNet}×; goal ≤ ${REDIS_CPU_RATIO_GOAL}×)`,
  )
  return result
}
