/**
 * Prints a service token: `pnpm run token --sub billing --scope "events:write" [--ttl 30d]`.
 * Signs with SERVICE_JWT_SECRET from the environment or, without it, with the running local
 * stack's secret (`.stack/secrets.json`, written by `pnpm stack`); refuses otherwise.
 * `--ttl` is at most 365d. `pnpm run token --revoke <token>` revokes one (REDIS_URL, KEY_PREFIX).
 */
import { parseArgs } from 'node:util'
import { Scope } from '@herald/contracts'
import { parseTtl, signServiceToken } from '../service-token'
import { revokeToken } from './revoke'
import { DEFAULT_STACK_DIR, signingKey } from './signing-key'

const { values } = parseArgs({
  options: {
    sub: { type: 'string' },
    scope: { type: 'string', default: '' },
    ttl: { type: 'string', default: '30d' },
    'stack-dir': { type: 'string', default: DEFAULT_STACK_DIR },
    revoke: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
})

if (values.revoke) {
  try {
    const { jti, exp } = await revokeToken(values.revoke, process.env)
    process.stderr.write(`token: revoked ${jti} (it would have expired ${new Date(exp * 1000).toISOString()})\n`)
    process.exit(0)
  } catch (err) {
    process.stderr.write(`token: ${(err as Error).message}\n`)
    process.exit(2)
  }
}

if (values.help || !values.sub) {
  process.stderr.write(
    'usage: pnpm run token --sub NAME --scope "events:write messages:write" [--ttl 30d (at most 365d)]\n' +
      `scopes: ${Object.values(Scope).join(' ')}\n` +
      "secret: SERVICE_JWT_SECRET, else the local stack's (.stack/secrets.json)\n" +
      'revoke: pnpm run token --revoke <token>   (REDIS_URL and KEY_PREFIX of the deployment)\n',
  )
  process.exit(values.help ? 0 : 2)
}

try {
  const ttlSeconds = parseTtl(values.ttl)
  const key = signingKey(process.env, values['stack-dir'])
  if (key.from === 'local stack') process.stderr.write("token: signed with the local stack's secret\n")
  process.stdout.write(`${signServiceToken(key, { sub: values.sub, scope: values.scope, ttlSeconds })}\n`)
} catch (err) {
  process.stderr.write(`token: ${(err as Error).message}\n`)
  process.exit(2)
}
