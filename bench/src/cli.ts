import { parseArgs } from 'node:util'
import { runBench, SCENARIOS, type Scenario } from './bench'
import { PROFILES } from './context'
import type { SystemName } from './systems'

const USAGE = `pnpm bench [${SCENARIOS.join('|')}|all …] [--quick] [--sockets N] [--cycles N] [--only herald,ws,socketio,express-session]`

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    quick: { type: 'boolean', default: false },
    sockets: { type: 'string' },
    cycles: { type: 'string' },
    only: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
})
if (values.help) {
  console.log(USAGE)
  process.exit(0)
}
const asked = positionals.length === 0 || positionals.includes('all') ? [...SCENARIOS] : positionals
for (const s of asked) {
  if (!(SCENARIOS as readonly string[]).includes(s)) {
    console.error(`unknown scenario "${s}"\n${USAGE}`)
    process.exit(2)
  }
}
const profile = { ...PROFILES[values.quick ? 'quick' : 'full'] }
if (values.sockets) profile.sockets = Math.min(20_000, Math.max(10, Number(values.sockets)))
if (values.cycles) profile.cycles = Math.min(10, Math.max(1, Number(values.cycles)))

try {
  await runBench({
    scenarios: SCENARIOS.filter((s) => asked.includes(s)) as Scenario[],
    profile,
    ...(values.only ? { only: values.only.split(',') as SystemName[] } : {}),
  })
  process.exit(0)
} catch (err) {
  console.error(err)
  process.exit(1)
}
