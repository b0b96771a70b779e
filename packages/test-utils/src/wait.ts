export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

/** Polls `check` until it returns a truthy value or the time runs out (the error names `what`). */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  timeoutMs = 5000,
  stepMs = 20,
  what = 'waitFor',
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const v = await check()
      if (v) return v
    } catch (err) {
      last = err
    }
    await sleep(stepMs)
  }
  throw new Error(`${what} timed out after ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`)
}
