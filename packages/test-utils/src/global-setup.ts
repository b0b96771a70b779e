import type { TestProject } from 'vitest/node'
import { startRedisServer } from './redis-server'

import './provided'
/** vitest globalSetup: one real redis-server per test run; tests isolate themselves with a unique key prefix. */
export default async function setup(project: TestProject) {
  const server = await startRedisServer()
  project.provide('redisUrl', server.url)
  return async () => {
    await server.stop()
  }
}
