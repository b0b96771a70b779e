import { readFileSync } from 'node:fs'

/** Bytes and objects of one kind of heap object. */
export interface KindTotal {
  bytes: number
  count: number
}

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } }
  nodes: number[]
  strings: string[]
}

/**
 * A V8 heap snapshot summed by object kind (node type, and for objects and closures their
 * constructor's or function's name): the live objects only — a snapshot holds what is reachable,
 * where the heap's used size also counts what the last collection left unswept.
 */
export function heapByKind(file: string): { total: number; kinds: Map<string, KindTotal> } {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot
  const fields = s.snapshot.meta.node_fields
  const types = s.snapshot.meta.node_types[0]
  const width = fields.length
  const [iType, iName, iSize] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [number, number, number]
  const kinds = new Map<string, KindTotal>()
  let total = 0
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + iType] as number] ?? '?'
    const name = type === 'object' || type === 'closure' ? (s.strings[s.nodes[i + iName] as number] ?? '?') : ''
    const key = name ? `${type} ${name.slice(0, 60)}` : type
    const size = s.nodes[i + iSize] as number
    const e = kinds.get(key) ?? { bytes: 0, count: 0 }
    e.bytes += size
    e.count++
    kinds.set(key, e)
    total += size
  }
  return { total, kinds }
}
