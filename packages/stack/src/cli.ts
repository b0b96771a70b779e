import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { PARTITIONS, REDIS_MODES, type StackRedisMode } from './local-redis'
import { type Stack, startStack } from './stack'

const USAGE = `pnpm stack [--redis single|sentinel|cluster] [--verbose] [--json] [--dir <path>]

The whole topology on this machine — Redis, 2 auth, 3 gateways, 2 notifier APIs + worker,
nginx on STACK_PORT (default 8080). Ctrl-C stops everything it started, services first.

  --redis single     one redis-server, AOF in .stack/redis (the default)
  --redis sentinel   a primary, a replica and 3 redis-sentinel processes (starts empty)
  --redis cluster    a 6-node Redis Cluster, 3 primaries (starts empty), REDIS_PARTITIONS=16
  --verbose          every log line, requests included, at LOG_LEVEL=debug
  --json             the services' JSON lines as they are (the default when not a terminal)
  --dir <path>       working dir for Redis data, nginx and logs (default .stack; one per running stack)`

function fail(message: string): never {
  console.error(`pnpm stack: ${message}`)
  process.exit(2)
}

function options() {
  try {
    const { values } = parseArgs({
      options: {
        redis: { type: 'string', default: 'single' },
        verbose: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        dir: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    })
    if (values.help) {
      console.log(USAGE)
      process.exit(0)
    }
    if (!REDIS_MODES.includes(values.redis as StackRedisMode))
      fail(`--redis must be one of ${REDIS_MODES.join(', ')}, not "${values.redis}"\n\n${USAGE}`)
    return { ...values, redis: values.redis as StackRedisMode }
  } catch (err) {
    return fail(`${(err as Error).message}\n\n${USAGE}`)
  }
}

const args = options()
const port = Number(process.env.STACK_PORT ?? 8080)

// Signals are handled from the start: a Ctrl-C while the stack starts stops what started.
// The services and Redis run in their own process groups, so the terminal's Ctrl-C reaches
// only this process, which stops the services before the Redis they use. A second Ctrl-C
// kills everything at once.
let stack: Stack | undefined
let signalled: NodeJS.Signals | undefined
const shutdown = async () => {
  console.log(`\nstopping the stack (services, then Redis)…`)
  await stack?.stop()
  process.exit(0)
}
const onSignal = (signal: NodeJS.Signals) => {
  if (signalled) {
    console.log('\nstopping now: every process killed')
    process.exit(130)
  }
  signalled = signal
  if (stack) void shutdown()
  else console.log('\nstopping once the stack has started…')
}
process.on('SIGINT', onSignal)
process.on('SIGTERM', onSignal)
process.on('SIGHUP', onSignal)
// In a terminal, Ctrl-C is read as a key rather than raised as SIGINT: the signal would also
// reach pnpm and the shells above this process, which then exit 130 ("ELIFECYCLE Command
// failed") however cleanly the stack stops.
if (process.stdin.isTTY) {
  process.stdin.setRawMode(true)
  process.stdin.on('data', (keys: Buffer) => {
    if (keys.includes(0x03) || keys.includes(0x04)) onSignal('SIGINT')
  })
  process.once('exit', () => process.stdin.setRawMode(false))
}

try {
  stack = await startStack({
    port,
    redis: args.redis,
    ...(args.dir ? { dir: resolve(args.dir) } : {}),
    logFormat: process.stdout.isTTY && !args.json ? 'pretty' : 'json',
    verbose: args.verbose,
  })
} catch (err) {
  console.error(`pnpm stack: could not start: ${(err as Error).message}`)
  process.exit(1)
}
if (signalled) await shutdown()

const line = '─'.repeat(72)
console.log(`${line}
herald is up behind nginx:      ${stack.url}
  demo page / API guide         ${stack.url}/
  OpenAPI (notifier /v1)        ${stack.url}/docs
  WebSocket                     ${stack.wsUrl}?ticket=…
  Redis: ${stack.topology.describe}, REDIS_PARTITIONS=${PARTITIONS[args.redis]}
    REDIS_URL=${stack.redisUrl}
Service token (all scopes, 30 days):
  export HERALD_TOKEN=${stack.serviceToken}
Try:
  curl -X POST ${stack.url}/v1/events -H "authorization: Bearer $HERALD_TOKEN" -H 'content-type: application/json' \\
       -d '{"id":"evt-1","type":"announcement","data":{"title":"Hello","body":"from herald"}}'
Ctrl-C stops everything.${args.verbose || args.json ? '' : ' --verbose shows every request; --help lists the options.'}
${line}`)
