import fc from 'fast-check'

type Schema = {
  type?: string | string[]
  anyOf?: Schema[]
  oneOf?: Schema[]
  const?: unknown
  enum?: unknown[]
  properties?: Record<string, Schema>
  required?: string[]
  items?: Schema
  maxItems?: number
  maxLength?: number
  minimum?: number
  maximum?: number
  examples?: unknown[]
}

/**
 * Values shaped by a JSON schema (TypeBox), mixed with values of every other JSON type:
 * mostly almost-valid bodies (right keys, wrong or boundary values) and some garbage,
 * which is what finds a 5xx. Not a validator: it aims at the edges, not at valid data.
 */
export function schemaArbitrary(schema: unknown, depth = 0): fc.Arbitrary<unknown> {
  const s = (schema ?? {}) as Schema
  const garbage = fc.jsonValue({ maxDepth: 3 })
  const shaped = shapedArbitrary(s, depth)
  return fc.oneof({ weight: 4, arbitrary: shaped }, { weight: 1, arbitrary: garbage })
}

function shapedArbitrary(s: Schema, depth: number): fc.Arbitrary<unknown> {
  const variants = s.anyOf ?? s.oneOf
  if (variants?.length) return fc.oneof(...variants.map((v) => schemaArbitrary(v, depth + 1)))
  if (s.const !== undefined) return fc.constant(s.const)
  if (s.enum?.length) return fc.constantFrom(...s.enum)
  const examples = s.examples?.length ? [fc.constantFrom(...s.examples)] : []
  const type = Array.isArray(s.type) ? s.type[0] : s.type
  switch (type) {
    case 'object': {
      if (depth > 4) return fc.constant({})
      const props = s.properties ?? {}
      const record: Record<string, fc.Arbitrary<unknown>> = {}
      for (const [k, v] of Object.entries(props)) record[k] = schemaArbitrary(v, depth + 1)
      const extra = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 })
      return fc.oneof(
        ...examples,
        fc.record(record, { requiredKeys: s.required?.filter((k) => k in props) ?? [] }),
        fc.tuple(fc.record(record, { requiredKeys: [] }), extra).map(([a, b]) => ({ ...b, ...a })),
      )
    }
    case 'array':
      return fc.array(s.items ? schemaArbitrary(s.items, depth + 1) : fc.jsonValue({ maxDepth: 1 }), {
        maxLength: Math.min(50, (s.maxItems ?? 5) + 2),
      })
    case 'string': {
      const max = s.maxLength ?? 64
      return fc.oneof(
        ...examples,
        fc.string({ maxLength: Math.min(max + 2, 300) }),
        fc.string({ unit: 'binary', maxLength: 20 }),
        fc.constantFrom(
          '',
          ' ',
          '0',
          '-1',
          '+8613800000000',
          '__proto__',
          'x'.repeat(max + 1),
          '\u0000',
          '9'.repeat(25),
        ),
      )
    }
    case 'integer':
    case 'number':
      return fc.oneof(
        ...examples,
        fc.integer(),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.constantFrom(0, -1, Number.MAX_SAFE_INTEGER, 2 ** 63, 1e308, s.minimum ?? 0, (s.maximum ?? 0) + 1),
      )
    case 'boolean':
      return fc.boolean()
    default:
      return fc.jsonValue({ maxDepth: 2 })
  }
}

/** A path segment from anything a client could type (encoded), including traversal and junk. */
export const pathSegment: fc.Arbitrary<string> = fc
  .oneof(
    fc.string({ minLength: 1, maxLength: 80 }),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }),
    fc.constantFrom('..', '%00', '__proto__', 'constructor', 'a'.repeat(300), '*', '$'),
  )
  .map((v) => encodeURIComponent(v))
