import { defineConfig } from 'vite'

/**
 * The demo page. `pnpm --filter @herald/web dev` proxies the API to a running `pnpm stack`
 * (HERALD_URL, default http://127.0.0.1:8080); in the stack nginx serves dist/ at `/`.
 */
const target = process.env.HERALD_URL ?? 'http://127.0.0.1:8080'

export default defineConfig({
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
