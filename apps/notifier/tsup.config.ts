import { defineConfig } from 'tsup'

/** Two entry points from one codebase: the HTTP API and the BullMQ worker. Workspace packages are bundled in. */
export default defineConfig({
  entry: { main: 'src/main.ts', 'worker-main': 'src/worker-main.ts' },
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  outDir: 'dist',
  clean: true,
  sourcemap: true,
  splitting: true,
  noExternal: [/^@herald\//],
})
