import type { Static, TSchema } from 'typebox'

/** What a message says; the worker adds its id and creation time. */
export interface MessageContent {
  kind: string
  title: string
  body: string
  data: Record<string, unknown>
  /** only these sessions (devices) get it live and on reconnect (`to: 'users'` only) */
  sessionIds?: string[]
  /** every session but this one (the sender's) */
  exceptSessionId?: string
}

/**
 * What an event becomes:
 * - `users`: a message per listed user (content may differ per user), each with its own id;
 * - `all`: one message (one id) for every user in `keys.users()`.
 */
export type Delivery =
  | { to: 'users'; messages: Array<{ userId: string } & MessageContent> }
  | { to: 'all'; message: MessageContent }

/** Read-only look-ups a handler may need (no Redis in handlers). */
export interface HandlerContext {
  /** the user's nickname, or null for an unknown user */
  nickname(userId: string): Promise<string | null>
}

export interface CatalogEvent<D> {
  id: string
  type: string
  data: D
  occurredAt: string
}

export interface EventDefinition<S extends TSchema = TSchema> {
  /** the `type` of the envelope */
  type: string
  /** one line for the OpenAPI document */
  description: string
  /** schema of `data` */
  schema: S
  /** an example `data`, shown in /docs */
  example: Static<S>
  /** message kinds this event writes that no user may mute (security notices) */
  mandatoryKinds?: readonly string[]
  /** turns a (valid) event into messages; throwing retries the job */
  handle(event: CatalogEvent<Static<S>>, ctx: HandlerContext): Delivery | Promise<Delivery>
}

/** Identity helper that keeps the handler's `data` typed from the schema. */
export function defineEvent<S extends TSchema>(def: EventDefinition<S>): EventDefinition<S> {
  return def
}
