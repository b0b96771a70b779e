import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { defineConfig, type Plugin } from 'vite'

/**
 * The demo page. `pnpm --filter @herald/web dev` proxies the API to a running `pnpm stack`
 * (HERALD_URL, default http://127.0.0.1:8080); in the stack nginx serves dist/ at `/`.
 */
const target = process.env.HERALD_URL ?? 'http://127.0.0.1:8080'

/** Ships the built SDK at /sdk/herald-client.js, for pages without a bundler (see public/embed.html). */
function heraldSdk(): Plugin {
  const dist = fileURLToPath(new URL('../../packages/client/dist/', import.meta.url))
  return {
    name: 'herald-sdk',
    apply: 'build',
    generateBundle() {
      for (const file of ['herald-client.js', 'herald-client.js.map', 'herald-client.d.ts']) {
        if (!existsSync(dist + file))
          this.error(`packages/client/dist/${file} is missing: pnpm --filter @herald/client build`)
        this.emitFile({ type: 'asset', fileName: `sdk/${file}`, source: readFileSync(dist + file, 'utf8') })
      }
    },
  }
}

export default defineConfig({
  plugins: [heraldSdk()],
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
  server: {
    proxy: {
      '/auth': target,
      '/inbox': target,
      '/v1': target,
      '/ws': { target, ws: true },
    },
  },
})
