import { defineConfig } from 'vitest/config'

/** Unit tests against an in-process protocol fake of herald (no Redis, no stack). */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 10_000,
  },
})
