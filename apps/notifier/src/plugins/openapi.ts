import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { WEBHOOK_EVENT_TYPES, type WebhookEventType, webhookPayloadSchema } from '@herald/contracts'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Catalog } from '../catalog'

export const SERVICE_TOKEN = 'serviceToken'
export const SESSION_TOKEN = 'sessionToken'

/**
 * The CSP of /docs: Swagger UI's own scripts and styles from this origin (it sets inline
 * style attributes, hence 'unsafe-inline' for styles only), try-it-out calls to this origin,
 * never framed.
 */
export const DOCS_CSP = [
  "default-src 'self'",
  "base-uri 'self'",
  "object-src 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
  "script-src 'self'",
  "script-src-attr 'none'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
].join('; ')

const WEBHOOK_SUMMARIES: Record<WebhookEventType, string> = {
  'message.delivered': 'A message of yours was acked by a first device of its user',
  'message.read': 'A message of yours was read (first read)',
  'event.failed': 'An event (or queued messages request) of yours failed for good',
  'user.online': 'A user opened a first socket',
  'user.offline': 'A user has had no socket for WEBHOOK_OFFLINE_DELAY_MS',
}

/**
 * The OpenAPI 3.1 `webhooks`: what herald POSTs to an endpoint registered with
 * `POST /v1/webhooks`, per event type — the Standard Webhooks envelope and its `data`.
 */
function webhookDocs(): Record<string, object> {
  const headers = {
    'webhook-id': {
      description: 'unique per event and endpoint, the same on every retry: deduplicate on it',
      schema: { type: 'string' },
    },
    'webhook-timestamp': {
      description: 'seconds since the epoch; refuse one far from now (replays)',
      schema: { type: 'string' },
    },
    'webhook-signature': {
      description:
        "`v1,` and the base64 HMAC-SHA256 of `<webhook-id>.<webhook-timestamp>.<body>`, keyed with the base64-decoded part of the endpoint's secret after `whsec_` (any Standard Webhooks library verifies it)",
      schema: { type: 'string' },
    },
  }
  return Object.fromEntries(
    WEBHOOK_EVENT_TYPES.map((type) => [
      type,
      {
        post: {
          tags: ['webhooks'],
          summary: WEBHOOK_SUMMARIES[type],
          description:
            'Sent to each enabled endpoint of yours subscribed to this type. Answer 2xx within WEBHOOK_TIMEOUT_MS; anything else is retried with backoff, and a long failure streak disables the endpoint.',
          parameters: Object.entries(headers).map(([name, h]) => ({ in: 'header', name, required: true, ...h })),
          requestBody: { required: true, content: { 'application/json': { schema: webhookPayloadSchema(type) } } },
          responses: { '200': { description: 'Any 2xx: received' } },
        },
      },
    ]),
  )
}

export interface OpenApiOptions {
  catalog: Catalog
}

/** The OpenAPI 3.1 document of the notifier (`/docs/json`) and its page (`/docs`). */
export const openApiPlugin = fp<OpenApiOptions>(
  async (app: FastifyInstance, opts) => {
    const eventSchemas = Object.fromEntries(opts.catalog.types.map((d) => [`EventData.${d.type}`, d.schema]))
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'herald notifier API',
          version: '1.0.0',
          description: [
            'Send business events and messages to herald users, read delivery receipts, presence and stats.',
            '',
            'Authenticate with a service token: `Authorization: Bearer <jwt>` — an HS256 JWT signed with',
            '`SERVICE_JWT_SECRET`, carrying `sub` (your system), `aud` (`SERVICE_JWT_AUDIENCE`), `exp` and',
            '`scope` (space-separated). `pnpm run token --sub billing --scope "events:write"` prints one.',
            "Without a valid token: 401 `UNAUTHORIZED`; without the route's scope: 403 `INSUFFICIENT_SCOPE`.",
            '',
            'Errors are `{statusCode, code, error, message}`; branch on `code`.',
          ].join('\n'),
        },
        tags: [
          { name: 'events', description: 'Business events, turned into messages by the event catalog' },
          { name: 'messages', description: 'Ad-hoc messages and their delivery receipts' },
          { name: 'users', description: 'Presence and forced disconnects' },
          { name: 'stats', description: 'Fleet, queue and stream figures' },
          {
            name: 'webhooks',
            description:
              'Signed callbacks to your system (Standard Webhooks): message delivered and read, event failed, user online and offline',
          },
          { name: 'inbox', description: "The signed-in user's inbox (browsers, session token)" },
        ],
        components: {
          securitySchemes: {
            [SERVICE_TOKEN]: {
              type: 'http',
              scheme: 'bearer',
              bearerFormat: 'JWT',
              description: 'Service token (HS256 JWT with sub, aud, exp, scope)',
            },
            [SESSION_TOKEN]: {
              type: 'http',
              scheme: 'bearer',
              description: 'Session token of a signed-in user (from POST /auth/login)',
            },
          },
          schemas: eventSchemas as Record<string, object>,
        },
        webhooks: webhookDocs(),
      },
    })
    await app.register(swaggerUi, {
      routePrefix: '/docs',
      // no badge from validator.swagger.io: the page loads nothing from another origin
      uiConfig: { docExpansion: 'list', deepLinking: true, validatorUrl: null },
      staticCSP: DOCS_CSP,
    })
  },
  { fastify: '5.x', name: 'herald-openapi' },
)
