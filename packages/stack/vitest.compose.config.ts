import { defineConfig } from 'vitest/config'

/**
 * `pnpm test:compose` only: the black-box suite against a running docker compose deployment
 * (scripts/test-compose.sh starts it and sets HERALD_COMPOSE_*). Not part of `pnpm test`.
 */
export default defineConfig({
  test: {
    include: ['test/compose/**/*.compose.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
})
