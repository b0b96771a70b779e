/** The Redis topologies a test suite can run against (see global-setup.ts). */
export type RedisTestMode = 'single' | 'cluster' | 'sentinel'

declare module 'vitest' {
  export interface ProvidedContext {
    /** the single redis-server (always started) */
    redisUrl: string
    /** one URL per topology this run started; `single` always */
    redisUrls: { single: string; cluster?: string; sentinel?: string }
    /** set in a package's vitest config (`test.provide`) to ask for more topologies than `single` */
    redisModes: RedisTestMode[]
  }
}
