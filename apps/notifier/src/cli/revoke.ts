import { BaseConfig, createRedis, keysFor, loadConfig, waitReady } from '@herald/service-kit'
import { RevocationList } from '../domain/revocations'

/** `jti` and `exp` of a token, read without checking it (revoking a forged token harms nobody). */
export function revocable(token: string): { jti: string; exp: number } {
  const part = token.trim().split('.')[1] ?? ''
  let claims: { jti?: unknown; exp?: unknown }
  try {
    claims = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
  } catch {
    throw new Error('not a JWT: pass the whole service token')
  }
  if (typeof claims.jti !== 'string' || typeof claims.exp !== 'number')
    throw new Error('the token has no jti or exp (minted before revocation existed: rotate SERVICE_JWT_SECRET instead)')
  return { jti: claims.jti, exp: claims.exp }
}

/** Adds a token to the revoked list in the Redis of REDIS_URL / KEY_PREFIX; every notifier refuses it within its cache time. */
export async function revokeToken(token: string, env: NodeJS.ProcessEnv): Promise<{ jti: string; exp: number }> {
  const { jti, exp } = revocable(token)
  const config = loadConfig(BaseConfig, env)
  const redis = createRedis(config.REDIS_URL, 'command', 'token-cli')
  try {
    await waitReady(redis)
    await new RevocationList(redis, keysFor(config), 0).revoke(jti, exp)
  } finally {
    redis.disconnect()
  }
  return { jti, exp }
}
