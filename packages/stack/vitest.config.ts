import { defineConfig } from 'vitest/config'

/** The end-to-end suite starts its own stack (redis-server, nginx, every replica) on free ports. */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
})
