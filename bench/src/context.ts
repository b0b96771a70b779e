import { join } from 'node:path'
import { sleep } from '@herald/test-utils'
import type { Percentiles } from './hist'
import type { GeneratorHealth } from './loadgen/ipc'
import { Generator } from './loadgen/ipc'
import type { RunResult, SendKind } from './loadgen/sender'
import { diffStats, perUnit, totals } from './redis-stats'
import { BENCH_DIR, type System, type SystemName, type User } from './systems'

/** How big and how long: `full` fits ≤ 15 min on 2 cores, `quick` ≤ 3 min. */
export interface Profile {
  name: 'full' | 'quick'
  sockets: number
  /** measured cycles; one warm-up cycle more is run and discarded */
  cycles: number
  pingMs: number
  idleWindowMs: number
  fanoutRates: number[]
  stepMs: number
  /**
   * The warm-up before a delivery scenario's steps, the same for every system: `warmupRate`
   * messages (or events) a second for `warmupMs`. It is there to measure each system as it runs
   * in production, its code compiled by V8's optimizing tier: a function is optimized after a
   * few thousand calls, and a step at 100 msg/s right after a warm-up of 200 messages (≈ 100
   * for each notifier replica) measured V8's interpreter, baseline code and compiler instead
   * (perf, 2026-11-30).
   */
  warmupRate: number
  warmupMs: number
  broadcasts: number
  notifyRates: number[]
  meRates: number[]
  loginRates: number[]
  authSessions: number
  drainMs: number
  /** amplification: herald's gateway counts compared in one run */
  ampGateways: number[]
  /** amplification: online users, one socket each through nginx */
  ampUsers: number
  /** amplification: users who never connect (their messages go to the inbox only) */
  ampOffline: number
  /** amplification: messages per second, each to one online user, for `ampMs` per run */
  ampRate: number
  ampMs: number
}

export const PROFILES: Record<'full' | 'quick', Profile> = {
  full: {
    name: 'full',
    sockets: 2000,
    cycles: 3,
    pingMs: 5000,
    idleWindowMs: 6000,
    fanoutRates: [100, 250, 500, 1000, 1500, 2000, 3000, 4000, 6000],
    stepMs: 4000,
    warmupRate: 1000,
    warmupMs: 8000,
    broadcasts: 6,
    notifyRates: [250, 500, 1000, 1500, 2000, 3000],
    meRates: [500, 1000, 2000, 3000, 4000, 6000, 8000, 10000, 12000],
    loginRates: [25, 50, 100, 200, 400, 800, 1200, 1600],
    authSessions: 500,
    drainMs: 5000,
    ampGateways: [3, 12],
    ampUsers: 600,
    ampOffline: 200,
    ampRate: 200,
    ampMs: 10_000,
  },
  quick: {
    name: 'quick',
    sockets: 300,
    cycles: 2,
    pingMs: 5000,
    idleWindowMs: 3000,
    fanoutRates: [100, 500, 2000],
    stepMs: 2000,
    warmupRate: 1000,
    warmupMs: 2000,
    broadcasts: 3,
    notifyRates: [250, 1000],
    meRates: [500, 2000],
    loginRates: [25, 100],
    authSessions: 100,
    drainMs: 3000,
    ampGateways: [3, 12],
    ampUsers: 300,
    ampOffline: 100,
    ampRate: 200,
    ampMs: 5000,
  },
}

export interface Ctx {
  profile: Profile
  systems: Map<SystemName, System>
  sender: Generator
  /** one socket-holding generator per system, made on first use */
  clients(name: SystemName): Generator
  /** whether that system's fanout sockets are open (through nginx) */
  connected: Map<SystemName, User[]>
  log(line: string): void
  tag(): string
  deadline: number
}

export function makeContext(profile: Profile, systems: Map<SystemName, System>, log: (l: string) => void): Ctx {
  const gens = new Map<SystemName, Generator>()
  // Unique within the run (event ids and login phones are made from it: a repeat would be a
  // duplicate, answered 200 and counted failed); the base varies between runs.
  const tagBase = Date.now() % 900
  let tags = 0
  return {
    profile,
    systems,
    sender: new Generator(join(BENCH_DIR, 'src/loadgen/sender.ts'), 'sender'),
    clients(name) {
      const have = gens.get(name)
      if (have) return have
      const g = new Generator(join(BENCH_DIR, 'src/loadgen/clients.ts'), `clients-${name}`)
      gens.set(name, g)
      return g
    },
    connected: new Map(),
    log,
    tag: () => String(tagBase + ++tags).padStart(3, '0'),
    deadline: Number.POSITIVE_INFINITY,
  }
}

export async function closeContext(ctx: Ctx, names: SystemName[]): Promise<void> {
  await ctx.sender.stop()
  for (const n of names) await ctx.clients(n).stop()
}

export interface ClientsReport {
  latency: Percentiles
  received: number
  unique: number
  perUser: number[]
  duplicates: number
  reordered: number
  unexpectedCloses: number
  open: number
  spans: number[]
  /** broadcast: per message, ms from its send to the first socket it reached */
  firsts: number[]
  health: GeneratorHealth
}

/** One measured delivery run: what was sent, what arrived, how fast, at what server CPU. */
export interface DeliveryRun {
  system: SystemName
  kind: SendKind
  rate: number
  cycle: number
  accepted: number
  failed: number
  delivered: number
  lost: number
  duplicates: number
  reordered: number
  latency: Percentiles
  http: Percentiles
  /** the sender's answers by HTTP status (0: no answer) */
  statuses: Record<string, number>
  cpuSec: number
  perCpuSec: number
  /** server CPU per delivered message by kind of process, in ms */
  cpuMsPerDelivered: Record<string, number>
  /** Redis commands per delivered message (scripts' inner calls too; the system's background work included) */
  redisCallsPerDelivered: number
  /** the same by command, the commands of at least 0.1 per message, most first: [command, calls per message, µs per message] */
  redisByCommand: [string, number, number][]
  /** broadcast only: sockets reached per second, median over the broadcasts */
  deliveriesPerSec?: number
  /** broadcast only: ms from a broadcast's send to the first socket it reached, median over the broadcasts */
  firstSocketMs?: number
  generator: { clients: GeneratorHealth; sender: GeneratorHealth; lagged: boolean }
  ok: boolean
}

/** Connects `n` sockets of a system through its nginx and keeps them for the delivery scenarios. */
export async function ensureConnected(ctx: Ctx, name: SystemName): Promise<User[]> {
  const have = ctx.connected.get(name)
  if (have) return have
  const sys = ctx.systems.get(name)
  if (!sys) throw new Error(`${name} is not started`)
  const users = await sys.users(ctx.profile.sockets)
  const r = await ctx.clients(name).call<{ connected: number; failed: number; ms: number }>(
    {
      cmd: 'connect',
      proto: sys.proto,
      acks: sys.acks,
      urls: [sys.wsUrl],
      tokens: users.map((u) => u.token),
      concurrency: 64,
    },
    180_000,
  )
  if (r.failed > 0) throw new Error(`${name}: ${r.failed} of ${users.length} sockets failed to connect`)
  ctx.log(`  ${name}: ${r.connected} sockets through nginx in ${(r.ms / 1000).toFixed(1)} s`)
  ctx.connected.set(name, users)
  return users
}

export async function disconnectAll(ctx: Ctx): Promise<void> {
  for (const name of ctx.connected.keys()) await ctx.clients(name).call({ cmd: 'disconnect' })
  ctx.connected.clear()
}

export type Tally = Pick<DeliveryRun, 'accepted' | 'failed' | 'delivered' | 'lost' | 'duplicates'>

/** What a send run and the clients' report add up to; `expected[i]`: messages sent to the user of socket i. */
export function tally(sent: RunResult, c: ClientsReport, expected: number[]): Tally {
  let lost = 0
  expected.forEach((e, i) => {
    lost += Math.max(0, e - (c.perUser[i] ?? 0))
  })
  return {
    accepted: sent.ok,
    failed: sent.failed + sent.dropped,
    delivered: c.unique,
    lost,
    duplicates: c.duplicates,
  }
}

/** Sends at `rate` for `durationMs` (open loop), waits for the sockets to drain, and counts. */
export async function deliveryRun(
  ctx: Ctx,
  name: SystemName,
  kind: SendKind,
  rate: number,
  durationMs: number,
  cycle: number,
): Promise<DeliveryRun> {
  const sys = ctx.systems.get(name) as System
  const users = await ensureConnected(ctx, name)
  const gen = ctx.clients(name)
  await gen.call({ cmd: 'reset' })
  const calls0 = await sys.redisCalls()
  const cpu0 = sys.cpu()
  const byProcess0 = sys.cpuByProcess()
  const sent = await ctx.sender.call<RunResult>(
    {
      cmd: 'run',
      kind,
      base: sys.url,
      rate,
      durationMs,
      token: sys.serviceToken,
      targets: users.map((u) => u.id),
      tag: ctx.tag(),
    },
    durationMs + 60_000,
  )
  const expectedPer = kind === 'broadcast' ? users.map(() => sent.ok) : sent.perTarget
  const expected = expectedPer.reduce((a, b) => a + b, 0)
  const until = Date.now() + ctx.profile.drainMs
  while (Date.now() < until) {
    const p = await gen.call<{ unique: number }>({ cmd: 'progress' })
    if (p.unique >= expected) break
    await sleep(25)
  }
  const cpuSec = sys.cpu() - cpu0
  const byProcess = sys.cpuByProcess()
  const commands = diffStats(await sys.redisCalls(), calls0)
  const calls = totals(commands).calls
  const c = await gen.call<ClientsReport>({ cmd: 'collect' })
  const counted = tally(sent, c, expectedPer)
  const { lost } = counted
  const lagged = [c.health, sent.health].some((h) => h.cpuPct > 70 || h.lagP99Ms > 30)
  const spans = c.spans.filter((s) => s > 0).sort((a, b) => a - b)
  const run: DeliveryRun = {
    system: name,
    kind,
    rate,
    cycle,
    ...counted,
    reordered: c.reordered,
    latency: c.latency,
    http: sent.http,
    statuses: sent.statuses,
    cpuSec: Math.round(cpuSec * 100) / 100,
    perCpuSec: cpuSec > 0 ? Math.round(c.unique / cpuSec) : 0,
    redisCallsPerDelivered: c.unique > 0 ? Math.round((10 * calls) / c.unique) / 10 : 0,
    redisByCommand: perUnit(commands, c.unique, { min: 0.1 }),
    cpuMsPerDelivered: Object.fromEntries(
      Object.entries(byProcess).map(([k, v]) => [
        k,
        c.unique > 0 ? Math.round((1e6 * (v - (byProcess0[k] ?? 0))) / c.unique) / 1000 : 0,
      ]),
    ),
    generator: { clients: c.health, sender: sent.health, lagged },
    ok: lost === 0 && sent.failed + sent.dropped === 0 && c.duplicates === 0,
  }
  if (kind === 'broadcast' && spans.length > 0) {
    run.deliveriesPerSec = Math.round(c.open / ((spans[Math.floor(spans.length / 2)] as number) / 1000))
    const firsts = [...c.firsts].sort((a, b) => a - b)
    if (firsts.length > 0) run.firstSocketMs = Math.round(10 * (firsts[Math.floor(firsts.length / 2)] as number)) / 10
  }
  ctx.log(
    `  ${cycle === 0 ? 'warm-up ' : `cycle ${cycle} `}${name.padEnd(9)} ${kind} ${rate}/s: ` +
      `p50 ${run.latency.p50} p99 ${run.latency.p99} max ${run.latency.max} ms, ${run.delivered} delivered, ` +
      `lost ${lost}, dup ${run.duplicates}, reord ${run.reordered}, failed ${run.failed}` +
      `${run.failed > 0 ? ` (answers ${JSON.stringify(sent.statuses)}, dropped ${sent.dropped})` : ''}, ` +
      `${run.perCpuSec}/cpu-s${run.deliveriesPerSec ? `, ${run.deliveriesPerSec} deliveries/s (first socket at ${run.firstSocketMs} ms)` : ''}${lagged ? ' [GENERATOR LAGGED]' : ''}`,
  )
  return run
}
