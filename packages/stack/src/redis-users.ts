import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { REPO_ROOT } from './render-nginx'

export type ServiceUser = 'auth' | 'gateway' | 'notifier' | 'worker'
const SERVICES: readonly ServiceUser[] = ['auth', 'gateway', 'notifier', 'worker']

/**
 * Each service's ACL rules (key patterns, then commands), read from the one place that
 * defines them for docker compose too: infra/docker/redis/start.sh (`user <name> on
 * #$(password …) <rules> $COMMANDS` and `COMMANDS='…'`).
 */
export function serviceAclRules(): Record<ServiceUser, string[]> {
  const script = readFileSync(join(REPO_ROOT, 'infra/docker/redis/start.sh'), 'utf8')
  const commands = /^COMMANDS='([^']+)'/m.exec(script)?.[1]
  if (!commands) throw new Error('infra/docker/redis/start.sh: no COMMANDS line')
  const out = {} as Record<ServiceUser, string[]>
  for (const name of SERVICES) {
    const line = new RegExp(`^user ${name} on #\\$\\(password [A-Z_]+\\) (.+) \\$COMMANDS$`, 'm').exec(script)?.[1]
    if (!line) throw new Error(`infra/docker/redis/start.sh: no rules for the ${name} user`)
    out[name] = [...line.split(/\s+/), ...commands.split(/\s+/)]
  }
  return out
}

export interface ServiceUsers {
  /** each service's REDIS_URL */
  urls: Record<ServiceUser, string>
  /** writes the users to the server (again after a restart: ACL SETUSER is not in the AOF) */
  apply(adminUrl: string): Promise<void>
}

/**
 * Gives every service its own Redis user on the local stack's server, with the same rules as
 * in docker compose and a fresh random password. The passwords live only in the services'
 * environment and in this object (never in an argument or a file).
 */
export async function createServiceUsers(adminUrl: string, host: string, port: number): Promise<ServiceUsers> {
  const rules = serviceAclRules()
  const passwords = {} as Record<ServiceUser, string>
  const urls = {} as Record<ServiceUser, string>
  for (const s of SERVICES) {
    passwords[s] = randomBytes(24).toString('hex')
    urls[s] = `redis://${s}:${passwords[s]}@${host}:${port}`
  }
  const users: ServiceUsers = {
    urls,
    async apply(url) {
      const admin = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1 })
      try {
        for (const name of SERVICES) {
          await admin.call('ACL', 'SETUSER', name, 'reset', 'on', `>${passwords[name]}`, ...rules[name])
        }
      } finally {
        admin.disconnect()
      }
    },
  }
  await users.apply(adminUrl)
  return users
}
