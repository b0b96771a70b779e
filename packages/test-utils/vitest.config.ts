import { defineConfig, mergeConfig } from 'vitest/config'
import shared from '../../vitest.shared.ts'

// This package tests the topologies themselves: the global setup starts all three.
export default mergeConfig(
  shared,
  defineConfig({ test: { provide: { redisModes: ['single', 'cluster', 'sentinel'] } } }),
)
