import type { Ctx } from '../context'
import { median, type Percentiles } from '../hist'
import { generatorLagged } from '../loadgen/ipc'
import type { RunResult } from '../loadgen/sender'
import type { System, SystemName } from '../systems'

export const AUTH_P99_LIMIT_MS = 20

export interface AuthRun {
  system: SystemName
  flow: 'me' | 'login'
  rate: number
  cycle: number
  ok: number
  failed: number
  http: Percentiles
  lagged: boolean
}

export interface AuthStep {
  system: SystemName
  flow: 'me' | 'login'
  rate: number
  p50: number
  /** median p99 over the cycles */
  p99: number
  bestP99: number
  held: boolean
}

export interface AuthResult {
  runs: AuthRun[]
  steps: AuthStep[]
  /** highest rate (requests/s for me, flows/s for login) whose best cycle's p99 stayed ≤ 20 ms with no failure */
  maxRate: Record<'me' | 'login', Partial<Record<SystemName, number>>>
}

function credential(sys: System, token: string): [string, string] {
  return sys.name === 'express-session' ? ['cookie', token] : ['authorization', `Bearer ${token}`]
}

/**
 * Session-checked GET /auth/me with sliding refresh, and the code + login flow (3 requests:
 * code, dev SMS, login), herald's auth behind nginx against Express + express-session +
 * connect-redis behind the same nginx settings; rate stepped, systems alternating.
 */
export async function auth(ctx: Ctx, names: SystemName[]): Promise<AuthResult> {
  const { profile } = ctx
  const runs: AuthRun[] = []
  const steps: AuthStep[] = []
  const maxRate: AuthResult['maxRate'] = { me: {}, login: {} }
  const creds = new Map<SystemName, [string, string][]>()
  for (const n of names) {
    const sys = ctx.systems.get(n) as System
    const users = await sys.users(profile.authSessions)
    creds.set(
      n,
      users.map((u) => credential(sys, u.token)),
    )
  }
  const once = async (n: SystemName, flow: 'me' | 'login', rate: number, cycle: number) => {
    const sys = ctx.systems.get(n) as System
    const r = await ctx.sender.call<RunResult>(
      {
        cmd: 'run',
        kind: flow,
        base: sys.url,
        rate,
        durationMs: profile.stepMs,
        credentials: creds.get(n),
        tag: ctx.tag(),
      },
      profile.stepMs + 60_000,
    )
    const run: AuthRun = {
      system: n,
      flow,
      rate,
      cycle,
      ok: r.ok,
      failed: r.failed + r.dropped,
      http: r.http,
      lagged: generatorLagged(r.health),
    }
    ctx.log(
      `  ${cycle === 0 ? 'warm-up ' : `cycle ${cycle} `}${n.padEnd(15)} ${flow} ${rate}/s: p50 ${r.http.p50} p99 ${r.http.p99} ` +
        `max ${r.http.max} ms, ok ${r.ok}, failed ${run.failed} ${JSON.stringify(r.statuses)}${run.lagged ? ' [GENERATOR LAGGED]' : ''}`,
    )
    return run
  }
  for (const flow of ['me', 'login'] as const) {
    const rates = flow === 'me' ? profile.meRates : profile.loginRates
    ctx.log(
      `auth ${flow === 'me' ? 'GET /auth/me (sliding refresh)' : 'code + login flow'}: rates ${rates.join(', ')}/s`,
    )
    for (const n of names) await once(n, flow, rates[0] as number, 0)
    let active = [...names]
    for (const rate of rates) {
      if (active.length === 0 || Date.now() > ctx.deadline) break
      const step: AuthRun[] = []
      for (let c = 1; c <= profile.cycles; c++) for (const n of active) step.push(await once(n, flow, rate, c))
      runs.push(...step)
      const still: SystemName[] = []
      for (const n of active) {
        const mine = step.filter((r) => r.system === n)
        const p99 = median(mine.map((r) => r.http.p99))
        const bestP99 = Math.min(...mine.map((r) => r.http.p99))
        const held = bestP99 <= AUTH_P99_LIMIT_MS && mine.every((r) => r.failed === 0)
        steps.push({ system: n, flow, rate, p50: median(mine.map((r) => r.http.p50)), p99, bestP99, held })
        if (held) {
          maxRate[flow][n] = rate
          still.push(n)
        } else ctx.log(`  ${n} stops at ${rate}/s: best p99 ${bestP99} ms (median ${p99})`)
      }
      active = still
    }
  }
  return { runs, steps, maxRate }
}
