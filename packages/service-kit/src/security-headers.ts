import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/**
 * The CSP of an API response: JSON is never a document, so nothing may load, frame it or be
 * framed. A route that serves a page (the notifier's /docs) sets its own CSP first; this
 * hook leaves it alone.
 */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

/**
 * Browser security headers on every response of a service, errors and 404s included. Five
 * fixed headers, so no helmet: helmet's defaults target pages, and every herald page but
 * /docs is served by nginx (which adds the same set, infra/nginx/herald.conf.template).
 * HSTS is the TLS terminator's (README: security headers).
 */
export const securityHeadersPlugin = fp(
  async (app: FastifyInstance) => {
    app.addHook('onSend', async (_request, reply, payload) => {
      if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', API_CSP)
      reply.header('x-content-type-options', 'nosniff')
      reply.header('x-frame-options', 'DENY')
      reply.header('referrer-policy', 'no-referrer')
      reply.header('cross-origin-opener-policy', 'same-origin')
      return payload
    })
  },
  { fastify: '5.x', name: 'herald-security-headers' },
)
