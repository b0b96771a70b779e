import type { Stack } from '../../src/stack'
import { api } from '../client'

/**
 * Sends single-user messages that carry a per-user sequence number in `data.seq`, and
 * remembers when each was sent (just before its POST) and which ids each user must get.
 */
export class SeqSender {
  readonly sentAt = new Map<string, number>()
  readonly idsByUser = new Map<string, string[]>()
  private readonly seqs = new Map<string, number>()
  errors = 0

  constructor(private readonly stack: Stack) {}

  async send(userId: string, tag = 'm'): Promise<string | null> {
    const seq = (this.seqs.get(userId) ?? 0) + 1
    this.seqs.set(userId, seq)
    const t = Date.now()
    const res = await api<{ ids: string[] }>(this.stack.url, 'POST', '/v1/messages', {
      token: this.stack.serviceToken,
      body: { to: { userIds: [userId] }, title: `${tag}${seq}`, body: `${tag}${seq}`, data: { seq } },
    }).catch(() => null)
    if (res?.status !== 202) {
      this.errors++
      return null
    }
    const id = res.body.ids[0] as string
    this.sentAt.set(id, t)
    const list = this.idsByUser.get(userId)
    if (list) list.push(id)
    else this.idsByUser.set(userId, [id])
    return id
  }

  expected(userId: string): string[] {
    return this.idsByUser.get(userId) ?? []
  }

  get total(): number {
    return this.sentAt.size
  }
}
