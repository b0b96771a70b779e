import closeWithGrace from 'close-with-grace'
import type { FastifyInstance } from 'fastify'

export interface RunOptions {
  app: FastifyInstance
  host: string
  port: number
  /** called first on SIGTERM/SIGINT, before the server closes (gateways close sockets with 1012 here) */
  beforeClose?: () => Promise<void>
  /** called after the server closed: quit Redis clients, workers… */
  afterClose?: () => Promise<void>
  /** the whole shutdown must end within this time, or the process exits 1 */
  graceMs?: number
}

/** Listens, and shuts down gracefully on SIGTERM/SIGINT or an uncaught error (close-with-grace). */
export async function runService(opts: RunOptions): Promise<void> {
  const { app } = opts
  closeWithGrace({ delay: opts.graceMs ?? 9000 }, async ({ signal, err }) => {
    if (err) app.log.error({ err: { message: err.message, type: err.name } }, 'shutting down after an error')
    else app.log.info({ signal }, 'shutting down')
    await opts.beforeClose?.()
    await app.close()
    await opts.afterClose?.()
  })
  await app.listen({ host: opts.host, port: opts.port })
}
