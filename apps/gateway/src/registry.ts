import type { Connection } from './connection'

/**
 * The sockets this replica holds: by user (every tab and device), by partition (so an
 * announcement walks only its partition's users) and by connection id.
 */
export class Registry {
  private readonly byUser = new Map<string, Set<Connection>>()
  private readonly byPartition = new Map<number, Map<string, Set<Connection>>>()
  private readonly byId = new Map<string, Connection>()

  constructor(private readonly partitionOf: (userId: string) => number = () => 0) {}

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
      // the partition index shares the user's set, so the two never disagree about a user's sockets
      const p = this.partitionOf(conn.userId)
      let users = this.byPartition.get(p)
      if (!users) {
        users = new Map()
        this.byPartition.set(p, users)
      }
      users.set(conn.userId, set)
    }
    set.add(conn)
  }

  remove(conn: Connection): boolean {
    if (this.byId.get(conn.connId) !== conn) return false
    this.byId.delete(conn.connId)
    const set = this.byUser.get(conn.userId)
    if (set) {
      set.delete(conn)
      if (set.size === 0) {
        this.byUser.delete(conn.userId)
        const p = this.partitionOf(conn.userId)
        const users = this.byPartition.get(p)
        if (users) {
          users.delete(conn.userId)
          if (users.size === 0) this.byPartition.delete(p)
        }
      }
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

  /** This replica's users of a partition and their sockets, or undefined when it holds none of them. */
  usersIn(partition: number): ReadonlyMap<string, ReadonlySet<Connection>> | undefined {
    return this.byPartition.get(partition)
  }

  all(): IterableIterator<Connection> {
    return this.byId.values()
  }
}
