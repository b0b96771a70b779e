import type { Writable } from 'node:stream'
import type { Redis } from 'ioredis'

const patched = new WeakSet<Writable>()

/**
 * The commands a connection is given within one turn of work (a callback and the promise
 * continuations it sets off) leave in one socket write. ioredis writes every command as it is
 * issued, one `write` syscall each; on loopback and on a VM each of those wakes Redis on its own,
 * and Redis then answers each in its own write, which wakes this process again. The socket is
 * corked at the first write of a turn and uncorked on a tick queued from a microtask, which runs
 * once the microtask queue is empty: after the callback and the promise continuations it set off
 * (even those queued later in that run), before any I/O. The commands leave as one `writev`, with
 * no timer and no wait for I/O; a command given after that tick starts a write of its own.
 *
 * ioredis' own auto-pipelining batches the same way but builds a Pipeline per batch and copies
 * every defined script onto it, which cost more than it saved on one server (see client.ts).
 */
export function coalesceWrites(client: Redis): void {
  const patch = () => {
    const stream = (client as unknown as { stream?: Writable }).stream
    if (!stream || patched.has(stream)) return
    patched.add(stream)
    const write = stream.write
    let corked = false
    const flush = () => {
      corked = false
      stream.uncork()
    }
    stream.write = function (this: Writable, ...args: Parameters<Writable['write']>) {
      if (!corked) {
        corked = true
        stream.cork()
        // a tick queued from a microtask runs once every microtask has run, even those queued later
        queueMicrotask(() => process.nextTick(flush))
      }
      return write.apply(this, args)
    } as Writable['write']
  }
  client.on('connect', patch)
  patch()
}
