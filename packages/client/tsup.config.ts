import { defineConfig } from 'tsup'

/** One ESM file a page can load with `<script type="module">`, plus its types. */
export default defineConfig({
  entry: { 'herald-client': 'src/index.ts' },
  format: ['esm'],
  target: 'es2022',
  platform: 'browser',
  outDir: 'dist',
  clean: true,
  sourcemap: true,
  dts: true,
})
