import type { Cluster, Redis } from 'ioredis'
import { isCluster } from './client'

/** A Redis client of any topology: one server, a Sentinel-managed primary, or a Cluster. */
export type RedisClient = Redis | Cluster

/**
 * A Lua script of herald. Each lives in its owner package's `src/lua/<name>-<numKeys>.ts`
 * (`n` when the caller passes the key count first), with its KEYS/ARGV/Output header
 * inside the Lua text.
 */
export interface Script {
  /** the ioredis command name it is registered under (`herald` + camel case of the file) */
  name: string
  /** fixed number of keys; omitted when the caller passes the count as the first argument */
  numberOfKeys?: number
  lua: string
}

type Arg = string | number | Buffer
/** A registered script: call it with its keys then its arguments (the key count first when variable). */
export type ScriptCommand<R = unknown> = (...args: Arg[]) => Promise<R>

/**
 * Registers scripts on a client once (ioredis `defineCommand`: EVALSHA with a fallback to
 * EVAL, routed by the first key on a Cluster) and returns the client typed with them.
 */
export function defineScripts<N extends string>(
  client: RedisClient,
  scripts: readonly (Script & { name: N })[],
): RedisClient & Record<N, ScriptCommand> {
  const c = client as unknown as Record<string, unknown>
  const ignored = (client.options as { autoPipeliningIgnoredCommands?: string[] }).autoPipeliningIgnoredCommands
  for (const s of scripts) {
    // ioredis' auto-pipelining routes a command by its first argument: for a script that takes
    // its key count first, that is a number, not a key — on a Cluster it would batch commands
    // of different slots together. Such scripts go through normal (key-routed) sending. One
    // server (or a Sentinel-managed primary) has no slots: they are batched like the rest.
    if (s.numberOfKeys === undefined && isCluster(client) && ignored && !ignored.includes(s.name)) ignored.push(s.name)
    if (typeof c[s.name] === 'function') continue
    client.defineCommand(
      s.name,
      s.numberOfKeys === undefined ? { lua: s.lua } : { numberOfKeys: s.numberOfKeys, lua: s.lua },
    )
  }
  return client as RedisClient & Record<N, ScriptCommand>
}

/** A flat field/value list (what a script returns from HGETALL) as an object. */
export function fromFlat(flat: string[]): Record<string, string> {
  const o: Record<string, string> = {}
  for (let i = 0; i + 1 < flat.length; i += 2) o[flat[i] as string] = flat[i + 1] as string
  return o
}
