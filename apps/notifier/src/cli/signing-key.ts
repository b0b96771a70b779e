import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadNotifierConfig } from '../config'
import type { TokenKey } from '../service-token'

/** Where `pnpm stack` keeps its generated secrets (packages/stack: `<repo>/.stack/secrets.json`). */
export const DEFAULT_STACK_DIR = join(new URL('../../../..', import.meta.url).pathname, '.stack')

export interface SigningKey extends TokenKey {
  /** where the secret came from, for the message on stderr */
  from: 'environment' | 'local stack'
}

/**
 * The key the token CLI signs with: SERVICE_JWT_SECRET from the environment (checked like
 * the notifier checks it), else the local stack's own secret from its secrets file. Never
 * a built-in default: a token signed with a public secret would be a token anyone can make.
 */
export function signingKey(env: NodeJS.ProcessEnv, stackDir = DEFAULT_STACK_DIR): SigningKey {
  if (env.SERVICE_JWT_SECRET) {
    const config = loadNotifierConfig(env)
    return { secret: config.SERVICE_JWT_SECRET, audience: config.SERVICE_JWT_AUDIENCE, from: 'environment' }
  }
  const file = join(stackDir, 'secrets.json')
  if (!existsSync(file)) {
    throw new Error(
      `SERVICE_JWT_SECRET is not set and there is no local stack secrets file (${file}): ` +
        "export the notifier's SERVICE_JWT_SECRET, or start the local stack with `pnpm stack` first",
    )
  }
  const secret = (JSON.parse(readFileSync(file, 'utf8')) as { SERVICE_JWT_SECRET?: unknown }).SERVICE_JWT_SECRET
  if (typeof secret !== 'string' || secret === '') throw new Error(`${file} has no SERVICE_JWT_SECRET`)
  const config = loadNotifierConfig({ ...env, SERVICE_JWT_SECRET: secret })
  return { secret, audience: config.SERVICE_JWT_AUDIENCE, from: 'local stack' }
}
