import { defineConfig } from 'vitest/config'

/** Only the harness's own smoke test: the benchmarks themselves run with `pnpm bench`, never in `pnpm test`. */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
})
