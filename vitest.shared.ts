import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

/** Every package's tests: one real redis-server per run (started by the global setup), generous timeouts for real I/O. */
export default defineConfig({
  test: {
    globalSetup: [fileURLToPath(new URL('./packages/test-utils/src/global-setup.ts', import.meta.url))],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
  },
})
