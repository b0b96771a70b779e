import { defineConfig, mergeConfig } from 'vitest/config'
import shared from '../../vitest.shared.ts'

// The suites run on every topology herald supports: the global setup starts all three.
export default mergeConfig(
  shared,
  defineConfig({ test: { provide: { redisModes: ['single', 'cluster', 'sentinel'] } } }),
)
