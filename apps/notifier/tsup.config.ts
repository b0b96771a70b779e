import { defineConfig } from 'tsup'

/**
 * Two entry points from one codebase: the HTTP API (dist/main.js) and the BullMQ worker
 * (dist/worker-main.js); their shared code lands in one chunk. Workspace packages ship as
 * TypeScript and are bundled, and with them their own dependencies (prom-client, env-schema…),
 * which pnpm does not let this package resolve at run time. Some are CommonJS that `require()`
 * Node built-ins, hence a real `require` in the banner.
 */
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
  banner: {
    js: "import { createRequire as __herald_createRequire } from 'node:module';\nconst require = __herald_createRequire(import.meta.url);",
  },
})
