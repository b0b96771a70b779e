import {
  type InboxCounts,
  type InboxFilter,
  type InboxPage,
  type InboxState,
  MAX_IDS_PER_FRAME,
  type Preferences,
  type PreferenceValue,
} from './types'

export interface InboxQuery {
  /** a cursor: only older messages (use `nextBefore` of the previous page) */
  before?: string
  /** 1..100 @default 50 on the server */
  limit?: number
  /** only unread or read messages (neither archived), or only archived ones @default every message not archived */
  state?: InboxFilter
  /** only messages of this kind */
  kind?: string
}

/** The `/inbox` calls of the client, with the session token. */
export interface InboxApi {
  /** `GET /inbox`: the user's messages, newest first */
  inbox(query?: InboxQuery): Promise<InboxPage>
  /** `POST /inbox/read`: the user's other tabs and devices get a `read` event */
  markRead(ids: readonly string[] | 'all'): Promise<void>
  /**
   * `POST /inbox/state`: marks the ids (sent 100 at a time) — or, for seen, read and archived,
   * every message up to a cursor — and resolves to how many changed. The user's other tabs and
   * devices get a `state` event.
   */
  setState(state: InboxState, target: readonly string[] | { upTo: string }): Promise<number>
  /** `DELETE /inbox/:id`: rejects with `ErrorCode.NOT_FOUND` when the message is not in the inbox */
  deleteMessage(id: string): Promise<void>
  /** `GET /inbox/counts`: total, unseen and unread leave archived messages out */
  counts(): Promise<InboxCounts>
  /** `GET /inbox/preferences`: the user's choice per message kind, and the kinds nobody may mute */
  getPreferences(): Promise<Preferences>
  /**
   * `PUT /inbox/preferences`: replaces every earlier choice (kinds left out are `on`). Rejects with a
   * HeraldHttpError: `ErrorCode.KIND_NOT_MUTABLE` for a kind of `mandatory` set apart from on,
   * `ErrorCode.VALIDATION_ERROR` for a malformed kind or more than 100 of them
   */
  setPreferences(kinds: Readonly<Record<string, PreferenceValue>>): Promise<Preferences>
}

export type Authed = <T>(path: string, body?: unknown, method?: string) => Promise<T>

/** Splits ids into the calls the server takes (at most MAX_IDS_PER_FRAME each), dropping repeats. */
function chunks(ids: readonly string[]): string[][] {
  const unique = [...new Set(ids)]
  const out: string[][] = []
  for (let i = 0; i < unique.length; i += MAX_IDS_PER_FRAME) out.push(unique.slice(i, i + MAX_IDS_PER_FRAME))
  return out
}

export function inboxApi(authed: Authed): InboxApi {
  return {
    async inbox(query = {}) {
      const params = new URLSearchParams()
      for (const key of ['before', 'limit', 'state', 'kind'] as const) {
        if (query[key] !== undefined) params.set(key, String(query[key]))
      }
      const qs = params.toString()
      return authed<InboxPage>(`/inbox${qs ? `?${qs}` : ''}`)
    },
    async markRead(ids) {
      if (ids === 'all') {
        await authed('/inbox/read', { all: true })
        return
      }
      for (const chunk of chunks(ids)) await authed('/inbox/read', { ids: chunk })
    },
    async setState(state, target) {
      if ('upTo' in target)
        return (await authed<{ changed: number }>('/inbox/state', { state, upTo: target.upTo })).changed
      let changed = 0
      for (const ids of chunks(target))
        changed += (await authed<{ changed: number }>('/inbox/state', { state, ids })).changed
      return changed
    },
    async deleteMessage(id) {
      await authed(`/inbox/${encodeURIComponent(id)}`, undefined, 'DELETE')
    },
    counts: () => authed<InboxCounts>('/inbox/counts'),
    getPreferences: () => authed<Preferences>('/inbox/preferences'),
    setPreferences: (kinds) => authed<Preferences>('/inbox/preferences', { kinds }, 'PUT'),
  }
}
