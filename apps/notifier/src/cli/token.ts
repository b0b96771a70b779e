/**
 * Prints a service token: `pnpm run token --sub billing --scope "events:write" [--ttl 30d]`.
 * Reads SERVICE_JWT_SECRET and SERVICE_JWT_AUDIENCE from the environment (same defaults as the notifier).
 */
import { parseArgs } from 'node:util'
import { loadNotifierConfig } from '../config'
import { parseTtl, signServiceToken } from '../service-token'

const { values } = parseArgs({
  options: {
    sub: { type: 'string' },
    scope: { type: 'string', default: '' },
    ttl: { type: 'string', default: '30d' },
    help: { type: 'boolean', short: 'h', default: false },
  },
})

if (values.help || !values.sub) {
  process.stderr.write(
    'usage: pnpm run token --sub NAME --scope "events:write messages:write" [--ttl 30d]\n' +
      'scopes: events:write messages:write presence:read users:disconnect stats:read\n',
  )
  process.exit(values.help ? 0 : 2)
}

const config = loadNotifierConfig()
const token = signServiceToken(
  { secret: config.SERVICE_JWT_SECRET, audience: config.SERVICE_JWT_AUDIENCE },
  { sub: values.sub, scope: values.scope, ttlSeconds: parseTtl(values.ttl) },
)
process.stdout.write(`${token}\n`)
