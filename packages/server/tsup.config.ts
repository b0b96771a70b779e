import { defineConfig } from 'tsup'

/** One ESM file for Node ≥ 20 (plain JavaScript or TypeScript), with its types inlined. */
export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  outDir: 'dist',
  clean: true,
  sourcemap: true,
  dts: { resolve: true },
})
