import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { parseArgs } from 'node:util'

/**
 * `pnpm --filter @herald/bench cpu-profile <dir>`: reads the .cpuprofile files that
 * `pnpm bench --cpu-prof` wrote (one folder per service) and prints, per service, where the
 * busy time went: by package (node_modules/<pkg>, herald's own packages, node internals, GC)
 * and the functions with the most self time. Idle time is left out of the percentages.
 */
interface Node {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
interface Profile {
  nodes: Node[]
  samples: number[]
  timeDeltas: number[]
}

function ownerOf(url: string, fn: string): string {
  if (fn === '(garbage collector)') return '(gc)'
  if (fn === '(program)') return '(program)'
  if (!url) return '(native)'
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`
  const nm = url.lastIndexOf('node_modules/')
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/')
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? '?')
  }
  const m = /\/(apps|packages)\/([^/]+)\//.exec(url)
  return m ? `herald:${m[2]}` : url.split('/').slice(-2).join('/')
}

/**
 * `skipSec`: samples of the first seconds (start-up, sign-ins) are left out; `tailSec`: so are
 * those of the last seconds (the stop: sockets closing, clients' errors)
 */
function summarise(file: string, skipSec: number, tailSec: number): string[] {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const self = new Map<number, number>()
  const end = p.timeDeltas.reduce((a, b) => a + b, 0) - tailSec * 1e6
  let t = 0
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0
    t += dt
    if (t >= skipSec * 1e6 && t <= end) self.set(id, (self.get(id) ?? 0) + dt)
  })
  let busy = 0
  const byOwner = new Map<string, number>()
  const byFn = new Map<string, number>()
  for (const [id, us] of self) {
    const n = byId.get(id)
    if (!n) continue
    const { functionName, url, lineNumber } = n.callFrame
    if (functionName === '(idle)') continue
    busy += us
    const owner = ownerOf(url, functionName)
    byOwner.set(owner, (byOwner.get(owner) ?? 0) + us)
    const fn = `${functionName || '(anonymous)'} ${owner}:${lineNumber + 1}`
    byFn.set(fn, (byFn.get(fn) ?? 0) + us)
  }
  const pct = (us: number) => `${((100 * us) / Math.max(1, busy)).toFixed(1).padStart(5)} %`
  const top = (m: Map<string, number>, k: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([name, us]) => `    ${pct(us)}  ${name}`)
  return [
    `  busy ${(busy / 1e6).toFixed(2)} s`,
    '  by package:',
    ...top(byOwner, 14),
    '  by function (self time):',
    ...top(byFn, 25),
  ]
}

function profilesUnder(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) out.push(...profilesUnder(path))
    else if (name.endsWith('.cpuprofile')) out.push(path)
  }
  return out.sort()
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { skip: { type: 'string', default: '0' }, tail: { type: 'string', default: '0' } },
})
const dir = positionals[0]
if (!dir) {
  console.error(
    'usage: cpu-profile <folder written by pnpm bench --cpu-prof> [--skip <seconds from each process start>] [--tail <seconds before its end>]',
  )
  process.exit(2)
}
for (const file of profilesUnder(dir)) {
  console.log(relative(dir, file))
  for (const line of summarise(file, Number(values.skip) || 0, Number(values.tail) || 0)) console.log(line)
}
