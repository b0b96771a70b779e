import { defineConfig } from 'vitest/config'

/** Browser tests: real Chromium (playwright-core) against a real stack (redis, nginx, every replica). */
export default defineConfig({
  test: {
    environment: 'node',
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    fileParallelism: false,
  },
})
