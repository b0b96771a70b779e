import type { Connection } from './connection'

/** The sockets this replica holds: by user (every tab and device) and by connection id. */
export class Registry {
  private readonly byUser = new Map<string, Set<Connection>>()
  private readonly byId = new Map<string, Connection>()

  get size(): number {
    return this.byId.size
  }

  get users(): number {
    return this.byUser.size
  }

  add(conn: Connection): void {
    this.byId.set(conn.connId, conn)
    let set = this.byUser.get(conn.userId)
    if (!set) {
      set = new Set()
      this.byUser.set(conn.userId, set)
    }
    set.add(conn)
  }

  remove(conn: Connection): boolean {
    if (this.byId.get(conn.connId) !== conn) return false
    this.byId.delete(conn.connId)
    const set = this.byUser.get(conn.userId)
    if (set) {
      set.delete(conn)
      if (set.size === 0) this.byUser.delete(conn.userId)
    }
    return true
  }

  get(connId: string): Connection | undefined {
    return this.byId.get(connId)
  }

  /** The user's sockets on this replica, or undefined when there is none (the common case for a stream entry). */
  forUser(userId: string): ReadonlySet<Connection> | undefined {
    return this.byUser.get(userId)
  }

  all(): IterableIterator<Connection> {
    return this.byId.values()
  }
}
