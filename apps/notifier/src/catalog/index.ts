import { Compile } from 'typebox/compile'
import { accountLogin } from './account-login'
import { announcement } from './announcement'
import { chatMessage } from './chat-message'
import { directMessage } from './direct-message'
import { orderShipped } from './order-shipped'
import type { EventDefinition } from './types'

export { DIRECT_MESSAGE_TYPE } from './direct-message'
export type { CatalogEvent, Delivery, EventDefinition, HandlerContext, MessageContent } from './types'

/** Event types other systems may send to `POST /v1/events`. Adding one: a file and a line here. */
export const EVENT_TYPES: readonly EventDefinition[] = [orderShipped, chatMessage, accountLogin, announcement]

/** Types only the notifier itself enqueues. */
const INTERNAL_TYPES: readonly EventDefinition[] = [directMessage]

export interface Catalog {
  /** a type other systems may send */
  public(type: string): EventDefinition | undefined
  /** any type the worker knows (public or internal) */
  any(type: string): EventDefinition | undefined
  /** null when `data` is valid, else a message that names the failing path (`data/userId must be string`) */
  check(def: EventDefinition, data: unknown): string | null
  readonly types: readonly EventDefinition[]
  /** message kinds no user may mute (GET /inbox/preferences lists them; delivery ignores preferences for them) */
  readonly mandatoryKinds: ReadonlySet<string>
}

interface SchemaError {
  keyword: string
  instancePath: string
  message: string
  params: Record<string, unknown>
}

function describe(err: SchemaError): string {
  const path = `data${err.instancePath}`
  if (err.keyword === 'additionalProperties') {
    const extra = (err.params.additionalProperties as string[] | undefined)?.join(', ')
    return `${path} must not have additional properties${extra ? ` (${extra})` : ''}`
  }
  if (err.keyword === 'required') {
    const missing = (err.params.requiredProperties as string[] | undefined)?.join(', ')
    return `${path} must have required properties${missing ? ` (${missing})` : ''}`
  }
  return `${path} ${err.message}`
}

export function createCatalog(
  types: readonly EventDefinition[] = EVENT_TYPES,
  internal: readonly EventDefinition[] = INTERNAL_TYPES,
): Catalog {
  const pub = new Map(types.map((d) => [d.type, d]))
  const all = new Map([...internal, ...types].map((d) => [d.type, d]))
  const validators = new Map([...all.values()].map((d) => [d, Compile(d.schema)]))
  return {
    types,
    mandatoryKinds: new Set([...all.values()].flatMap((d) => d.mandatoryKinds ?? [])),
    public: (type) => pub.get(type),
    any: (type) => all.get(type),
    check(def, data) {
      const v = validators.get(def) ?? Compile(def.schema)
      if (v.Check(data)) return null
      const errors = [...v.Errors(data)] as SchemaError[]
      // `schema is false` repeats what additionalProperties says, less clearly
      const first = errors.find((e) => e.keyword !== 'boolean') ?? errors[0]
      return first ? describe(first) : 'data is invalid'
    },
  }
}
