import websocket from '@fastify/websocket'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

export interface WebsocketPluginOptions {
  maxPayload: number
}

/**
 * @fastify/websocket with herald's limits: a frame over `maxPayload` closes the socket
 * 1009, no per-message compression (CPU and memory per socket matter more than bytes
 * here). Sockets are closed by the gateway's drain, not by the plugin.
 */
export const websocketPlugin = fp<WebsocketPluginOptions>(
  async (app: FastifyInstance, opts) => {
    await app.register(websocket, {
      options: { maxPayload: opts.maxPayload, perMessageDeflate: false, clientTracking: false },
      // the gateway closes its sockets (1012) in its own preClose hook
      preClose(done) {
        done()
      },
    })
  },
  { fastify: '5.x', name: 'herald-websocket' },
)
