/**
 * The generated parts of docs/protocol.md: the frames (from their TypeBox schemas), the close
 * codes and the error codes (from the constants clients branch on). Meanings are written here,
 * typed by the constants, so adding a code without saying what it means does not compile, and
 * packages/contracts/test/protocol-docs.test.ts fails while docs/protocol.md is stale.
 * Regenerate with `pnpm -s docs:protocol`. Not exported from the package: tooling only.
 */
import type { TSchema } from 'typebox'
import { ErrorCode } from './errors'
import {
  AckClientFrame,
  CloseCode,
  ErrorFrame,
  MAX_IDS_PER_FRAME,
  MessageFrame,
  ReadClientFrame,
  ReadFrame,
  RetractFrame,
  StateClientFrame,
  StateFrame,
  WelcomeFrame,
} from './frames'

const CLOSE_CODE_MEANINGS: Record<keyof typeof CloseCode, { meaning: string; client: string }> = {
  NORMAL: { meaning: 'the socket was closed on purpose', client: 'nothing' },
  GOING_AWAY: { meaning: 'the peer is going away', client: 'reconnect with `since`' },
  POLICY_VIOLATION: {
    meaning: 'too many invalid frames, or the user already holds `MAX_CONNECTIONS_PER_USER` sockets',
    client: 'do not retry in a loop; fix the client or close another tab',
  },
  MESSAGE_TOO_BIG: { meaning: 'a client frame above `MAX_PAYLOAD_BYTES`', client: 'send smaller frames' },
  SERVICE_RESTART: {
    meaning: 'the replica is draining (deploy, SIGTERM)',
    client: 'reconnect at once with `since` (another replica answers)',
  },
  TRY_AGAIN_LATER: {
    meaning: 'the replica is full, or this socket fell too far behind (slow consumer)',
    client: 'reconnect with `since` after the `retry-after=<s>` of the reason, with jitter',
  },
  UNAUTHORIZED: {
    meaning: 'missing, forged, expired or reused ticket, or a dead session',
    client: 'do not reconnect with the same ticket: get a new one (or sign in again)',
  },
  SESSION_ENDED: {
    meaning: 'the session ended: logout, logout-all, revoked, or `POST /v1/users/:id/disconnect`',
    client: 'do not reconnect; show the sign-in page',
  },
}

const ERROR_CODE_MEANINGS: Record<ErrorCode, { status: string; meaning: string }> = {
  VALIDATION_ERROR: { status: '400', meaning: 'the body, query or path does not match the schema' },
  INVALID_JSON: { status: '400', meaning: 'the body is not JSON' },
  UNSUPPORTED_MEDIA_TYPE: { status: '415', meaning: 'the body is not `application/json`' },
  PAYLOAD_TOO_LARGE: { status: '413', meaning: 'the body is larger than `BODY_LIMIT_BYTES`' },
  NOT_FOUND: { status: '404', meaning: 'no such route, event, message, session or user' },
  UNAUTHORIZED: { status: '401', meaning: 'missing, invalid or expired session or service token' },
  FORBIDDEN: { status: '403', meaning: 'the caller may not do this' },
  TOO_MANY_REQUESTS: { status: '429', meaning: 'a rate limit; `Retry-After` says when to retry' },
  SERVICE_UNAVAILABLE: { status: '503', meaning: 'Redis is unreachable or the replica drains; retry later' },
  INTERNAL_ERROR: { status: '500', meaning: 'a bug; the message never carries internals' },
  INVALID_PHONE: { status: '400', meaning: 'not a valid phone number' },
  INVALID_CODE: { status: '401', meaning: 'wrong or expired one-time code' },
  TOO_MANY_ATTEMPTS: { status: '429', meaning: 'too many wrong codes: request a new code' },
  COUNTRY_NOT_ALLOWED: { status: '400', meaning: 'codes cannot be sent to this country' },
  SMS_BUDGET_EXCEEDED: { status: '429', meaning: 'no more codes for this phone (or country, or in all) today' },
  SMS_SEND_FAILED: { status: '502/503', meaning: 'the SMS provider refused or did not answer' },
  UNKNOWN_EVENT_TYPE: { status: '422', meaning: 'the event `type` is not in the catalog' },
  INSUFFICIENT_SCOPE: { status: '403', meaning: 'the service token lacks the scope of this call' },
  DELIVER_AT_TOO_FAR: { status: '400', meaning: '`deliverAt` is further ahead than `DELIVER_AT_MAX_SECONDS`' },
  INVALID_WEBHOOK_URL: {
    status: '400',
    meaning: 'the webhook URL is malformed, not https, or targets a refused (private) address',
  },
  TOO_MANY_WEBHOOKS: { status: '400', meaning: 'the caller already has `WEBHOOK_MAX_ENDPOINTS` webhook endpoints' },
  KIND_NOT_MUTABLE: {
    status: '400',
    meaning: '`PUT /inbox/preferences` muted a kind nobody may mute (the `mandatory` list: security notices)',
  },
  INVALID_EXPIRY: {
    status: '400',
    meaning: '`ttl` and `expiresAt` together, or an `expiresAt` not after now (and after `deliverAt`)',
  },
  NOT_CANCELABLE: {
    status: '409',
    meaning:
      '`DELETE /v1/events/:id` of an event already processing, done or failed: take its messages back with `DELETE /v1/messages/:id`',
  },
}

interface JsonSchema {
  type?: string
  const?: unknown
  format?: string
  pattern?: string
  items?: JsonSchema
  properties?: Record<string, JsonSchema>
  required?: string[]
  maxItems?: number
  anyOf?: JsonSchema[]
}

function typeOf(s: JsonSchema): string {
  if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``
  if (s.anyOf) return s.anyOf.map(typeOf).join(' \\| ')
  if (s.type === 'array') return `${typeOf(s.items ?? {})}[]${s.maxItems ? ` (≤ ${s.maxItems})` : ''}`
  if (s.type === 'object') return 'object'
  if (s.type === 'string' && s.format) return `string (${s.format})`
  if (s.type === 'string' && s.pattern === '^[0-9]{1,20}$') return 'cursor (decimal string)'
  return s.type ?? 'any'
}

function frameRow(direction: string, schema: TSchema): string {
  const s = schema as unknown as JsonSchema
  const props = s.properties ?? {}
  const type = props.type?.const as string
  const fields = Object.entries(props)
    .filter(([name]) => name !== 'type')
    .map(([name, p]) => `\`${name}${s.required?.includes(name) ? '' : '?'}\`: ${typeOf(p)}`)
  return `| \`${type}\` | ${direction} | ${fields.join(', ')} |`
}

const cell = (s: string) => s.replaceAll('|', '\\|')

/** The generated sections of docs/protocol.md, by marker name. */
export function protocolTables(): Record<'frames' | 'close-codes' | 'error-codes', string> {
  const frames = [
    '| frame | direction | fields (`?`: optional) |',
    '| --- | --- | --- |',
    frameRow('server → client', WelcomeFrame),
    frameRow('server → client', MessageFrame),
    frameRow('server → client', ReadFrame),
    frameRow('server → client', StateFrame),
    frameRow('server → client', RetractFrame),
    frameRow('server → client', ErrorFrame),
    frameRow('client → server', AckClientFrame),
    frameRow('client → server', ReadClientFrame),
    frameRow('client → server', StateClientFrame),
    '',
    `A client frame carries at most ${MAX_IDS_PER_FRAME} ids; anything else is answered with an \`error\` frame.`,
    '',
    'Over Server-Sent Events (`GET /sse`) each server → client frame is the `data:` of one event, with',
    '`id:` = its cursor when it has one; the client → server frames are the bodies of `POST /sse/frames`,',
    'where a bad one is answered 400 `VALIDATION_ERROR` rather than with an `error` frame.',
  ].join('\n')
  const close = [
    '| code | name | meaning | what a client does |',
    '| --- | --- | --- | --- |',
    ...Object.entries(CloseCode).map(([name, code]) => {
      const m = CLOSE_CODE_MEANINGS[name as keyof typeof CloseCode]
      return `| ${code} | \`${name}\` | ${cell(m.meaning)} | ${cell(m.client)} |`
    }),
    '',
    'Over Server-Sent Events the same code ends a started stream as its last event: `event: close`,',
    '`data: {"code":<code>,"reason":"<reason>"}`; a stream that ends without one is a 1006. A stream',
    'refused before its `welcome` is an HTTP error instead, which stops an EventSource: 401',
    '`UNAUTHORIZED` (4401, 4409), 429 `TOO_MANY_REQUESTS` (1008), 503 `SERVICE_UNAVAILABLE` with',
    '`Retry-After` (1012, 1013; nginx tries the next gateway).',
  ].join('\n')
  const errors = [
    '| `code` | HTTP status | meaning |',
    '| --- | --- | --- |',
    ...Object.values(ErrorCode).map((code) => {
      const m = ERROR_CODE_MEANINGS[code]
      return `| \`${code}\` | ${m.status} | ${cell(m.meaning)} |`
    }),
  ].join('\n')
  return { frames, 'close-codes': close, 'error-codes': errors }
}

/** Table cells padded or not, `---` or `------`: the same document (Biome pads Markdown tables). */
export function sameMarkdown(a: string, b: string): boolean {
  const norm = (s: string) => s.replace(/-{3,}/g, '---').replace(/[ \t]+/g, ' ')
  return norm(a) === norm(b)
}

/** `doc` with every `<!-- generated:NAME -->…<!-- /generated:NAME -->` section replaced. */
export function renderProtocolDoc(doc: string): string {
  let out = doc
  for (const [name, table] of Object.entries(protocolTables())) {
    const re = new RegExp(`(<!-- generated:${name} -->)[\\s\\S]*?(<!-- /generated:${name} -->)`)
    if (!re.test(out)) throw new Error(`docs/protocol.md has no generated:${name} section`)
    out = out.replace(re, (_m, open: string, close: string) => `${open}\n\n${table}\n\n${close}`)
  }
  return out
}
