import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { REPO_ROOT } from '@herald/stack'
import { type Ctx, closeContext, disconnectAll, makeContext, type Profile } from './context'
import { amplificationTable, atRestTable, cpuByProcessTable, latencySvg, markdownTable, type Series } from './report'
import { type AmplificationResult, amplification } from './scenarios/amplification'
import { type AuthResult, auth } from './scenarios/auth'
import {
  type BroadcastResult,
  broadcast,
  type FanoutResult,
  fanout,
  type NotifyResult,
  notifyE2e,
  P99_LIMIT_MS,
} from './scenarios/fanout'
import { type IdleResult, idle } from './scenarios/idle'
import { BENCH_DIR, type System, type SystemName, startHerald, startPeer } from './systems'

export const SCENARIOS = [
  'idle',
  'fanout',
  'broadcast',
  'notify-e2e',
  'auth',
  'fanout-cluster',
  'broadcast-cluster',
  'amplification',
] as const
export type Scenario = (typeof SCENARIOS)[number]
/** what `pnpm bench` alone runs: herald beside its peers (≈ 11 min full); the issue-11 scenarios run when named or with `all` */
export const DEFAULT_SCENARIOS: readonly Scenario[] = ['idle', 'fanout', 'broadcast', 'notify-e2e', 'auth']

export interface BenchOptions {
  scenarios: Scenario[]
  profile: Profile
  /** restrict the systems (e.g. only the bare-ws peer) */
  only?: SystemName[]
  log?: (line: string) => void
  /** write results/, the SVG and the Markdown table */
  write?: boolean
  /** write a .cpuprofile of every herald Node process into this folder (`--cpu-prof`) */
  cpuProfDir?: string
  /**
   * a full run as it stands (no system, rate, cycle or size narrowed): its fanout plot replaces
   * docs/bench-fanout-p99.svg; a narrowed run writes its plot under results/ only
   */
  publish?: boolean
  /**
   * herald's clients send no `ack` frames (`--no-acks`): what delivery receipts cost, as a
   * diagnostic; herald's SDK always acks
   */
  noAcks?: boolean
}

export interface BenchResults {
  startedAt: string
  durationSec: number
  profile: Profile
  machine: Record<string, string | number>
  systems: SystemName[]
  notes: string[]
  scenarios: {
    idle?: IdleResult
    fanout?: FanoutResult
    /** herald on a Redis Cluster beside herald on one Redis */
    fanoutCluster?: FanoutResult
    broadcast?: BroadcastResult
    /** herald on a Redis Cluster beside herald on one Redis */
    broadcastCluster?: BroadcastResult
    notify?: NotifyResult
    auth?: AuthResult
    amplification?: AmplificationResult
  }
}

function version(cmd: string, args: string[], re: RegExp): string {
  try {
    const out = execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString()
    return re.exec(out)?.[1] ?? out.trim()
  } catch (err) {
    const e = err as { stderr?: Buffer }
    return re.exec(e.stderr?.toString() ?? '')?.[1] ?? 'unknown'
  }
}

export function machine(): Record<string, string | number> {
  const model = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? '?'
  // nginx -v writes to stderr
  const nginx = /nginx\/(\S+)/.exec(spawnSync('nginx', ['-v'], { encoding: 'utf8' }).stderr ?? '')?.[1] ?? '?'
  let nproc = cpus().length
  try {
    nproc = Number(execFileSync('nproc').toString().trim())
  } catch {}
  return {
    nproc,
    cpu: model,
    memGiB: Math.round(Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) / 1048576),
    node: process.version,
    redis: version('redis-server', ['--version'], /v=(\S+)/),
    nginx,
    loadavg: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  }
}

const heraldBuilt = () =>
  ['auth', 'gateway', 'notifier'].every((a) => existsSync(join(REPO_ROOT, `apps/${a}/dist/main.js`)))

/** Starts what the scenarios need, runs them, stops everything (also on error). */
export async function runBench(o: BenchOptions): Promise<BenchResults> {
  const log = o.log ?? ((l: string) => console.log(l))
  const t0 = Date.now()
  const notes: string[] = []
  const want = new Set<SystemName>()
  for (const s of o.scenarios) {
    if (s === 'idle' || s === 'fanout' || s === 'broadcast')
      for (const n of ['herald', 'ws', 'socketio'] as const) want.add(n)
    if (s === 'notify-e2e') want.add('herald')
    if (s === 'auth') for (const n of ['herald', 'express-session'] as const) want.add(n)
    if (s === 'fanout-cluster' || s === 'broadcast-cluster')
      for (const n of ['herald', 'herald-cluster'] as const) want.add(n)
  }
  // amplification starts its own herald stacks, one per gateway count
  let scenarios = o.scenarios
  if (o.only) for (const n of [...want]) if (!o.only.includes(n)) want.delete(n)
  if ((want.has('herald') || scenarios.includes('amplification')) && !heraldBuilt()) {
    want.delete('herald')
    want.delete('herald-cluster')
    scenarios = scenarios.filter((s) => s !== 'amplification')
    notes.push(
      'herald skipped: apps are not built (pnpm --filter @herald/auth --filter @herald/gateway --filter @herald/notifier build)',
    )
    log(`! ${notes.at(-1)}`)
  }
  const root = mkdtempSync(join(tmpdir(), 'herald-bench-'))
  const systems = new Map<SystemName, System>()
  const ctx: Ctx = makeContext(o.profile, systems, log)
  const results: BenchResults = {
    startedAt: new Date(t0).toISOString(),
    durationSec: 0,
    profile: o.profile,
    machine: machine(),
    systems: [],
    notes,
    scenarios: {},
  }
  const stopAll = async () => {
    await disconnectAll(ctx).catch(() => {})
    await closeContext(ctx, [...want]).catch(() => {})
    await Promise.all([...systems.values()].map((s) => s.stop().catch(() => {})))
    rmSync(root, { recursive: true, force: true })
  }
  const onSignal = () => {
    log('interrupted: stopping everything')
    void stopAll().finally(() => process.exit(130))
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    const opts = (name: string, replicas: number) => ({ dir: join(root, name), pingMs: o.profile.pingMs, replicas })
    for (const n of want) {
      const t = Date.now()
      const sys =
        n === 'herald' || n === 'herald-cluster'
          ? await startHerald({
              ...opts(n, 3),
              redis: n === 'herald' ? 'single' : 'cluster',
              ...(o.cpuProfDir ? { cpuProfDir: join(o.cpuProfDir, n) } : {}),
            })
          : await startPeer(n, opts(n, n === 'express-session' ? 2 : 3))
      if (o.noAcks && sys.acks) {
        sys.acks = false
        notes.push(`${n}: its clients sent no ack frames (--no-acks), so no delivery receipt was recorded`)
      }
      systems.set(n, sys)
      log(`started ${n} in ${((Date.now() - t) / 1000).toFixed(1)} s (${sys.pids().length} server processes)`)
    }
    results.systems = [...systems.keys()]
    const sockets = (['herald', 'herald-cluster', 'ws', 'socketio'] as const).filter((n) => systems.has(n))
    // herald on a Cluster takes part in the -cluster scenarios only
    const side = sockets.filter((n) => n !== 'herald-cluster')
    for (const n of sockets) {
      const t = Date.now()
      await systems.get(n)?.users(o.profile.sockets)
      log(`${n}: ${o.profile.sockets} sessions in ${((Date.now() - t) / 1000).toFixed(1)} s`)
    }
    for (const s of scenarios) {
      const ts = Date.now()
      if (s === 'idle') results.scenarios.idle = await idle(ctx, side)
      if (s === 'fanout') results.scenarios.fanout = await fanout(ctx, side)
      if (s === 'fanout-cluster') {
        const names = (['herald', 'herald-cluster'] as const).filter((n) => systems.has(n))
        results.scenarios.fanoutCluster = await fanout(ctx, names)
      }
      if (s === 'broadcast') results.scenarios.broadcast = await broadcast(ctx, side)
      if (s === 'broadcast-cluster') {
        const names = (['herald', 'herald-cluster'] as const).filter((n) => systems.has(n))
        results.scenarios.broadcastCluster = await broadcast(ctx, names)
      }
      if (s === 'notify-e2e' && systems.has('herald')) results.scenarios.notify = await notifyE2e(ctx)
      if (s === 'auth') {
        await disconnectAll(ctx)
        const names = (['herald', 'express-session'] as const).filter((n) => systems.has(n))
        if (names.length > 0) results.scenarios.auth = await auth(ctx, names)
      }
      if (s === 'amplification') {
        await disconnectAll(ctx)
        results.scenarios.amplification = await amplification(ctx, join(root, 'amplification'))
      }
      log(`${s} took ${((Date.now() - ts) / 1000).toFixed(0)} s`)
    }
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await stopAll()
  }
  results.durationSec = Math.round((Date.now() - t0) / 1000)
  if (o.write !== false) writeResults(results, log, o.publish === true)
  return results
}

function fanoutSeries(steps: FanoutResult['steps']): Series[] {
  const names = [...new Set(steps.map((s) => s.system))]
  return names.map((name) => ({
    name,
    points: steps
      .filter((s) => s.system === name)
      .map((s) => ({ x: s.rate, y: s.bestP99, median: s.p99, held: s.held })),
  }))
}

function writeResults(r: BenchResults, log: (l: string) => void, publish: boolean): void {
  const dir = join(BENCH_DIR, 'results')
  mkdirSync(dir, { recursive: true })
  const stamp = r.startedAt.replace(/[:.]/g, '-')
  const amp = r.scenarios.amplification
  const table = [markdownTable(r), cpuByProcessTable(r), atRestTable(r), amp ? amplificationTable(amp) : '']
    .filter(Boolean)
    .join('\n\n')
  writeFileSync(join(dir, `${stamp}-${r.profile.name}.json`), JSON.stringify(r, null, 2))
  writeFileSync(join(dir, 'latest.json'), JSON.stringify(r, null, 2))
  writeFileSync(join(dir, 'latest.md'), `${table}\n`)
  const svgs: string[] = []
  if (r.scenarios.fanout) {
    const svg = latencySvg(
      `fanout p99 vs rate (${r.profile.sockets} sockets, 3 replicas, ${r.machine.nproc} cores)`,
      fanoutSeries(r.scenarios.fanout.steps),
      P99_LIMIT_MS,
      'messages per second (one per user)',
    )
    writeFileSync(join(dir, 'fanout-p99.svg'), svg)
    svgs.push(join(dir, 'fanout-p99.svg'))
    // a full run, not narrowed, publishes its plot next to BENCHMARKS.md's other figures
    if (publish && r.profile.name === 'full') {
      mkdirSync(join(REPO_ROOT, 'docs'), { recursive: true })
      writeFileSync(join(REPO_ROOT, 'docs/bench-fanout-p99.svg'), svg)
      svgs.push('docs/bench-fanout-p99.svg')
    }
  }
  if (r.scenarios.fanoutCluster) {
    const svg = latencySvg(
      `fanout p99, herald on Redis Cluster vs one Redis (${r.profile.sockets} sockets, 3 gateways)`,
      fanoutSeries(r.scenarios.fanoutCluster.steps),
      P99_LIMIT_MS,
      'messages per second (one per user)',
    )
    writeFileSync(join(dir, 'fanout-cluster-p99.svg'), svg)
    svgs.push(join(dir, 'fanout-cluster-p99.svg'))
  }
  log('')
  log(table)
  log('')
  log(`results: ${join(dir, `${stamp}-${r.profile.name}.json`)}${svgs.length ? `, plot: ${svgs.join(', ')}` : ''}`)
  log(`total ${r.durationSec} s`)
}
