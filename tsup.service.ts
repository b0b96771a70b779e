import { defineConfig } from 'tsup'

/**
 * The build of every herald service: ESM for `node dist/<entry>.js`. Workspace packages ship
 * as TypeScript and are bundled, and with them their own dependencies (prom-client,
 * env-schema…), which pnpm does not let an app resolve at run time. Some of those are
 * CommonJS that `require()` Node built-ins, hence a real `require` in the banner.
 */
export function serviceBuild(entry: Record<string, string>) {
  return defineConfig({
    entry,
    format: ['esm'],
    target: 'node20',
    platform: 'node',
    outDir: 'dist',
    clean: true,
    sourcemap: true,
    splitting: Object.keys(entry).length > 1,
    noExternal: [/^@herald\//],
    banner: {
      js: "import { createRequire as __herald_createRequire } from 'node:module';\nconst require = __herald_createRequire(import.meta.url);",
    },
  })
}
