import { defineConfig } from 'tsup'

/**
 * One ESM file for `node dist/main.js`. Workspace packages are bundled (they ship as TypeScript);
 * auth's own npm dependencies stay external. The workspace packages' dependencies (prom-client,
 * env-schema…) are not resolvable from here under pnpm, so they are bundled too — and some are
 * CommonJS that `require()` Node built-ins, hence a real `require` in the banner.
 */
export default defineConfig({
  entry: ['src/main.ts'],
  outDir: 'dist',
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  bundle: true,
  noExternal: [/^@herald\//],
  sourcemap: true,
  clean: true,
  splitting: false,
  dts: false,
  banner: {
    js: "import { createRequire as __herald_createRequire } from 'node:module';\nconst require = __herald_createRequire(import.meta.url);",
  },
})
