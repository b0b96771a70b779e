import { createServer, type Server, Socket } from 'node:net'

/**
 * A TCP proxy on 127.0.0.1 that forwards to `targetPort` and holds every chunk `delayMs`
 * in each direction (order kept): a slow link. `cut()` drops every connection at once.
 */
export class DelayProxy {
  private readonly server: Server
  private readonly sockets = new Set<Socket>()
  port = 0
  delayMs: number
  connections = 0

  constructor(
    private readonly targetPort: number,
    delayMs: number,
  ) {
    this.delayMs = delayMs
    this.server = createServer((client) => this.pipe(client))
  }

  async listen(port = 0): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(port, '127.0.0.1', () => resolve())
    })
    const addr = this.server.address()
    this.port = typeof addr === 'object' && addr ? addr.port : 0
    return this.port
  }

  private pipe(client: Socket): void {
    this.connections++
    const upstream = new Socket()
    upstream.connect(this.targetPort, '127.0.0.1')
    for (const s of [client, upstream]) {
      this.sockets.add(s)
      s.setNoDelay(true)
      s.on('error', () => {})
      s.on('close', () => {
        this.sockets.delete(s)
        client.destroy()
        upstream.destroy()
      })
    }
    const forward = (from: Socket, to: Socket) =>
      from.on('data', (chunk) => {
        setTimeout(() => {
          if (!to.destroyed) to.write(chunk)
        }, this.delayMs)
      })
    forward(client, upstream)
    forward(upstream, client)
  }

  /** Drops every proxied connection (both ends) at once. */
  cut(): number {
    const n = this.sockets.size
    for (const s of this.sockets) s.destroy()
    return n
  }

  async close(): Promise<void> {
    this.cut()
    await new Promise<void>((r) => this.server.close(() => r()))
  }
}
