/**
 * Reads counters from Prometheus text exposition: the bench scrapes each gateway's
 * `/metrics` before and after a run and works with the differences.
 */

/** The sum of every sample of `name` (all label sets) whose labels include `match`. */
export function sumSamples(text: string, name: string, match: Record<string, string> = {}): number {
  let sum = 0
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || line.startsWith('#')) continue
    const rest = line.slice(name.length)
    if (rest[0] !== ' ' && rest[0] !== '{') continue
    const labels = rest[0] === '{' ? rest.slice(1, rest.indexOf('}')) : ''
    if (!Object.entries(match).every(([k, v]) => labels.includes(`${k}="${v}"`))) continue
    const value = Number(rest.slice(rest.lastIndexOf(' ') + 1))
    if (Number.isFinite(value)) sum += value
  }
  return sum
}

/** Every URL's exposition text, fetched in parallel (5 s each). */
export async function scrape(urls: string[]): Promise<string[]> {
  return Promise.all(
    urls.map(async (u) => {
      const res = await fetch(u, { signal: AbortSignal.timeout(5000) })
      if (!res.ok) throw new Error(`GET ${u} → ${res.status}`)
      return res.text()
    }),
  )
}
