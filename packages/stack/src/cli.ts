import { startStack } from './stack'

/**
 * `pnpm stack`: the whole topology on this machine — redis-server (AOF), 2 auth,
 * 3 gateways, notifier API + worker, nginx on STACK_PORT (default 8080).
 * Ctrl-C (or SIGTERM) stops everything it started and nothing else.
 */
const port = Number(process.env.STACK_PORT ?? 8080)
const stack = await startStack({ port })
const line = '─'.repeat(72)
console.log(`${line}
herald is up behind nginx:      ${stack.url}
  demo page / API guide         ${stack.url}/
  OpenAPI (notifier /v1)        ${stack.url}/docs
  WebSocket                     ${stack.wsUrl}?ticket=…
  Redis (AOF, ${stack.redis.dir})  ${stack.redisUrl}
Service token (all scopes, 30 days):
  export HERALD_TOKEN=${stack.serviceToken}
Try:
  curl -X POST ${stack.url}/v1/events -H "authorization: Bearer $HERALD_TOKEN" -H 'content-type: application/json' \\
       -d '{"id":"evt-1","type":"announcement","data":{"title":"Hello","body":"from herald"}}'
Ctrl-C stops everything.
${line}`)

let stopping = false
const shutdown = async (signal: string) => {
  if (stopping) return
  stopping = true
  console.log(`\n${signal}: stopping the stack…`)
  await stack.stop()
  process.exit(0)
}
process.on('SIGINT', () => void shutdown('SIGINT'))
process.on('SIGTERM', () => void shutdown('SIGTERM'))
