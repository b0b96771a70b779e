import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { DEFAULT_SCENARIOS, runBench, SCENARIOS, type Scenario } from './bench'
import { PROFILES } from './context'
import type { SystemName } from './systems'
import { BENCH_DIR } from './systems'

const USAGE = `pnpm bench [${SCENARIOS.join('|')}|all …] [--quick] [--sockets N] [--cycles N] [--rates 100,250,…] [--only herald,ws,socketio,express-session] [--cpu-prof] [--no-acks]
  no scenario named: ${DEFAULT_SCENARIOS.join(', ')}; all: every scenario`

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    quick: { type: 'boolean', default: false },
    sockets: { type: 'string' },
    cycles: { type: 'string' },
    rates: { type: 'string' },
    only: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    'no-acks': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
})
if (values.help) {
  console.log(USAGE)
  process.exit(0)
}
const asked: string[] =
  positionals.length === 0 ? [...DEFAULT_SCENARIOS] : positionals.includes('all') ? [...SCENARIOS] : positionals
for (const s of asked) {
  if (!(SCENARIOS as readonly string[]).includes(s)) {
    console.error(`unknown scenario "${s}"\n${USAGE}`)
    process.exit(2)
  }
}
const profile = { ...PROFILES[values.quick ? 'quick' : 'full'] }
if (values.sockets) profile.sockets = Math.min(20_000, Math.max(10, Number(values.sockets)))
if (values.cycles) profile.cycles = Math.min(10, Math.max(1, Number(values.cycles)))
if (values.rates) {
  const rates = values.rates.split(',').map(Number)
  if (rates.some((r) => !Number.isInteger(r) || r < 1 || r > 20_000)) {
    console.error(`--rates takes whole messages per second from 1 to 20000, comma-separated\n${USAGE}`)
    process.exit(2)
  }
  // the steps of fanout and of notify-e2e alike
  profile.fanoutRates = rates
  profile.notifyRates = rates
}

try {
  await runBench({
    scenarios: SCENARIOS.filter((s) => asked.includes(s)) as Scenario[],
    profile,
    ...(values.only ? { only: values.only.split(',') as SystemName[] } : {}),
    publish: !values.quick && !values.only && !values.rates && !values.cycles && !values.sockets && !values['no-acks'],
    noAcks: values['no-acks'],
    ...(values['cpu-prof']
      ? { cpuProfDir: join(BENCH_DIR, 'results', `cpu-${new Date().toISOString().replace(/[:.]/g, '-')}`) }
      : {}),
  })
  process.exit(0)
} catch (err) {
  console.error(err)
  process.exit(1)
}
