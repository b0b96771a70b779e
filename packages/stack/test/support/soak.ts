/**
 * Short forms run in `pnpm test`; `HERALD_SOAK=1` (`pnpm test:soak`) runs the long forms.
 * Every size is also overridable one by one, e.g. `HERALD_SOAK_SOCKETS=2000`.
 */
export const SOAK = process.env.HERALD_SOAK === '1'

/** `short` in CI, `long` under HERALD_SOAK=1, or HERALD_<NAME> when set. */
export function param(name: string, short: number, long: number): number {
  const v = process.env[`HERALD_${name}`]
  if (v !== undefined && v !== '') {
    const n = Number(v)
    if (!Number.isFinite(n)) throw new Error(`HERALD_${name} must be a number, got "${v}"`)
    return n
  }
  return SOAK ? long : short
}

/** One line per measured figure, so CI output shows it. */
export function figure(name: string, value: string | number): void {
  console.log(`[figure] ${name}: ${value}`)
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i] as number
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not within ${timeoutMs} ms`)
    await sleep(20)
  }
}

/** Runs `fn` over `items` with at most `concurrency` at once. */
export async function pool<T, R>(
  items: T[],
  concurrency: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i] as T, i)
    }
  })
  await Promise.all(workers)
  return out
}
