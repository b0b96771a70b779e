import { parseArgs } from 'node:util'
import { heapByKind } from './heap-snapshot'

/**
 * `pnpm --filter @herald/bench heap-diff BEFORE.heapsnapshot AFTER.heapsnapshot [--per N] [--top 25]`:
 * the V8 heap by object kind (node type and constructor or string name, self sizes summed) in
 * two snapshots of one process, and the growth between them — per socket with `--per` (the
 * sockets opened in between). `pnpm bench idle` keeps the pair of each system's cycle when
 * BENCH_HEAP_SNAPSHOTS names a directory.
 */
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { per: { type: 'string', default: '1' }, top: { type: 'string', default: '25' } },
})
const [beforeFile, afterFile] = positionals
if (!beforeFile || !afterFile) {
  console.error('usage: heap-diff BEFORE.heapsnapshot AFTER.heapsnapshot [--per N] [--top 25]')
  process.exit(2)
}
const per = Math.max(1, Number(values.per) || 1)
const top = Math.min(Math.max(1, Number(values.top) || 25), 500)

const a = heapByKind(beforeFile).kinds
const b = heapByKind(afterFile).kinds
const rows = [...new Set([...a.keys(), ...b.keys()])].map((k) => {
  const x = a.get(k) ?? { bytes: 0, count: 0 }
  const y = b.get(k) ?? { bytes: 0, count: 0 }
  return { k, bytes: y.bytes - x.bytes, count: y.count - x.count }
})
const total = rows.reduce((s, r) => s + r.bytes, 0)
console.log(
  `heap growth ${(total / 1024 / 1024).toFixed(2)} MiB, ${(total / per).toFixed(0)} B per ${per > 1 ? 'socket' : 'unit'}`,
)
console.log('| kind | bytes per socket | objects per socket |')
console.log('|---|---|---|')
for (const r of rows.sort((x, y) => Math.abs(y.bytes) - Math.abs(x.bytes)).slice(0, top)) {
  console.log(`| ${r.k} | ${(r.bytes / per).toFixed(0)} | ${(r.count / per).toFixed(2)} |`)
}
