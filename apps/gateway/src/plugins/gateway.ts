import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Gateway, type GatewayDeps } from '../gateway'

declare module 'fastify' {
  interface FastifyInstance {
    gateway: Gateway
  }
}

export type GatewayPluginOptions = Omit<GatewayDeps, 'log'>

/**
 * The replica's gateway as a decorator. It starts (presence, stream loop, timers) when
 * the app is ready, drains (sockets closed 1012, presence left) before the server closes,
 * and stops its loop and timers on close.
 */
export const gatewayPlugin = fp<GatewayPluginOptions>(
  async (app: FastifyInstance, opts) => {
    const gateway = new Gateway({ ...opts, log: app.log })
    app.decorate('gateway', gateway)
    app.addHook('onReady', async () => {
      await gateway.start()
    })
    app.addHook('preClose', async () => {
      await gateway.drain()
    })
    app.addHook('onClose', async () => {
      await gateway.stop()
    })
  },
  { fastify: '5.x', name: 'herald-gateway' },
)
