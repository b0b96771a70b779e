import type { HeraldClient, HeraldMessage, InboxCounts, InboxItem, InboxState, StateEvent } from '@herald/client'
import { fill, h, timeAgo } from './dom'

const compareCursors = (a: string, b: string) =>
  a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0
const newestFirst = (a: InboxItem, b: InboxItem) => compareCursors(b.cursor, a.cursor)
/** How long a live message stays on screen before it counts as seen (one call for a burst). */
const SEEN_AFTER_MS = 1000
/** herald stops listing a message at its expiresAt; a page fetched just before then may still hold it */
const expired = (item: InboxItem) => item.expiresAt !== undefined && Date.parse(item.expiresAt) <= Date.now()
const clockTime = (iso: string) =>
  new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })

/**
 * The live list. Items are merged by id from `/inbox` pages and the socket, so a message
 * that arrives both ways shows once. The badge counts the unread items held here plus the
 * unread ones older than the loaded pages (which only the server knows about). Two views, the
 * inbox and the archived messages; what the list shows is marked seen (the "new" tag stays until
 * the next load), and the counts line is the server's `GET /inbox/counts`.
 */
export class NotificationList {
  readonly el: HTMLElement
  private readonly items = new Map<string, InboxItem>()
  private olderUnread = 0
  private nextBefore: string | null = null
  private view: 'inbox' | 'archived' = 'inbox'
  private seenTimer: ReturnType<typeof setTimeout> | undefined
  private readonly counts = h('p', { class: 'muted counts', 'data-testid': 'inbox-counts' })
  private readonly tabs = {
    inbox: h('button', { type: 'button', class: 'link', 'data-testid': 'view-inbox' }, 'Inbox'),
    archived: h('button', { type: 'button', class: 'link', 'data-testid': 'view-archived' }, 'Archived'),
  }
  private readonly list = h('ul', { class: 'notifications', 'data-testid': 'notifications' })
  private readonly more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Load older')
  private readonly markAll = h(
    'button',
    { type: 'button', class: 'secondary', 'data-testid': 'mark-all-read' },
    'Mark all read',
  )

  constructor(
    private readonly client: HeraldClient,
    private readonly onUnread: (count: number) => void,
  ) {
    this.more.addEventListener('click', () => void this.loadOlder())
    this.markAll.addEventListener('click', () => void this.readAll())
    for (const view of ['inbox', 'archived'] as const) {
      this.tabs[view].addEventListener('click', () => {
        this.view = view
        void this.reload()
      })
    }
    this.el = h(
      'section',
      { class: 'card notifications-card' },
      h('header', { class: 'card-head' }, h('h2', {}, 'Notifications'), this.markAll),
      h('nav', { class: 'views' }, this.tabs.inbox, ' · ', this.tabs.archived, this.counts),
      this.list,
      h('div', { class: 'center' }, this.more),
    )
    this.render()
  }

  get unread(): number {
    let n = this.olderUnread
    for (const item of this.items.values()) if (!item.read) n++
    return n
  }

  /** (Re)loads the newest page: at start, after a gap, and when a read event names ids we do not hold. */
  async reload(): Promise<void> {
    const page = await this.client.inbox({ limit: 30, ...(this.view === 'archived' ? { state: 'archived' } : {}) })
    // messages that arrived on the socket while the page was on its way are newer than all of it
    const newest = page.items[0]
    const live = [...this.items.values()].filter((i) => !newest || newestFirst(i, newest) < 0)
    this.items.clear()
    let unreadInPage = 0
    for (const item of page.items) {
      if (!item.read) unreadInPage++
      if (!expired(item)) this.items.set(item.id, item)
    }
    for (const item of live) this.items.set(item.id, item)
    this.olderUnread = Math.max(0, page.unread - unreadInPage)
    this.nextBefore = page.nextBefore
    this.render()
    this.markSeenSoon(0)
    void this.refreshCounts()
  }

  /** The server's counts per state, on the counts line. */
  async refreshCounts(): Promise<void> {
    const c: InboxCounts = await this.client.counts()
    this.counts.textContent = ` — ${c.total} in the inbox, ${c.unseen} new, ${c.unread} unread, ${c.archived} archived`
    if (this.view === 'archived') this.onUnread(c.unread)
  }

  /** Marks what the list shows as seen, after `delay` (a burst of live messages is one call). */
  private markSeenSoon(delay = SEEN_AFTER_MS): void {
    clearTimeout(this.seenTimer)
    this.seenTimer = setTimeout(() => {
      const ids = [...this.items.values()].filter((i) => !i.seen && !i.read).map((i) => i.id)
      if (ids.length > 0) void this.client.setState('seen', ids).then(() => this.refreshCounts())
    }, delay)
  }

  /**
   * A change made elsewhere (a `state` event). Returns false when the list cannot follow it from
   * what it holds (a message came back into this view): the caller reloads.
   */
  applyState(e: StateEvent): boolean {
    const hit = (i: InboxItem) => (e.ids ? e.ids.includes(i.id) : compareCursors(i.cursor, e.upTo ?? '0') <= 0)
    const leaves = e.state === 'deleted' || e.state === (this.view === 'inbox' ? 'archived' : 'unarchived')
    const comesBack = e.state === (this.view === 'inbox' ? 'unarchived' : 'archived')
    for (const item of [...this.items.values()].filter(hit)) {
      if (leaves) this.items.delete(item.id)
      else if (e.state === 'seen') item.seen = true
      else if (e.state === 'read') item.read = item.seen = true
      else if (e.state === 'unread') item.read = false
    }
    this.render()
    void this.refreshCounts()
    return !comesBack
  }

  private async change(item: InboxItem, state: InboxState): Promise<void> {
    if (state === 'deleted') await this.client.deleteMessage(item.id)
    else await this.client.setState(state, [item.id])
    this.applyState({ state, ids: [item.id] })
  }

  private async loadOlder(): Promise<void> {
    if (!this.nextBefore) return
    const page = await this.client.inbox({ before: this.nextBefore, limit: 30 })
    for (const item of page.items) if (!expired(item)) this.items.set(item.id, item)
    for (const item of page.items) if (!item.read) this.olderUnread = Math.max(0, this.olderUnread - 1)
    this.nextBefore = page.nextBefore
    this.render()
  }

  /** A live message; returns false when it was already listed. */
  add(message: HeraldMessage): boolean {
    if (this.items.has(message.id)) return false
    if (this.view === 'archived') return true
    this.items.set(message.id, { ...message, read: false, seen: false, archived: false })
    this.render()
    this.markSeenSoon()
    void this.refreshCounts()
    return true
  }

  /** Retracted by the sender or expired (a `retract` event): off the list. */
  remove(ids: readonly string[]): void {
    let removed = false
    for (const id of ids) removed = this.items.delete(id) || removed
    if (!removed) return
    this.render()
    void this.refreshCounts()
  }

  /** Read elsewhere (a `read` frame) or here. Returns whether every id was known. */
  applyRead(ids: readonly string[]): boolean {
    let allKnown = true
    for (const id of ids) {
      const item = this.items.get(id)
      if (item) item.read = true
      else allKnown = false
    }
    this.render()
    return allKnown
  }

  private async read(id: string): Promise<void> {
    this.applyRead([id])
    await this.client.markRead([id])
  }

  private async readAll(): Promise<void> {
    for (const item of this.items.values()) item.read = true
    this.olderUnread = 0
    this.render()
    await this.client.markRead('all')
    void this.refreshCounts()
  }

  private render(): void {
    const items = [...this.items.values()].sort(newestFirst)
    if (items.length === 0) {
      fill(
        this.list,
        h(
          'li',
          { class: 'empty' },
          'No notifications yet. Send yourself a chat message from the panel on the right, or POST /v1/messages.',
        ),
      )
    } else {
      fill(this.list, ...items.map((item) => this.row(item)))
    }
    this.tabs.inbox.disabled = this.view === 'inbox'
    this.tabs.archived.disabled = this.view === 'archived'
    this.more.hidden = this.nextBefore === null
    this.markAll.disabled = this.unread === 0
    // the badge is the inbox's: the archived view takes it from the counts
    if (this.view === 'inbox') this.onUnread(this.unread)
  }

  /** A device-targeted message is listed on every device; say which devices it was pushed to. */
  private targetTag(item: InboxItem): HTMLElement | null {
    const here = this.client.sessionId
    let target: string
    let label: string
    if (item.sessionIds) {
      const others = item.sessionIds.filter((id) => id !== here).length
      const mine = others < item.sessionIds.length
      target = mine ? 'this-device' : 'other-devices'
      label = mine
        ? others === 0
          ? 'this device only'
          : `this device and ${others} more`
        : `sent to ${others === 1 ? 'another device' : `${others} other devices`}`
    } else if (item.exceptSessionId) {
      const mine = item.exceptSessionId === here
      target = mine ? 'not-this-device' : 'all-but-one-device'
      label = mine ? 'sent from this device' : 'all devices but one'
    } else return null
    return h('span', { class: 'tag tag-target', 'data-testid': 'target', 'data-target': target }, label)
  }

  private row(item: InboxItem): HTMLElement {
    return h(
      'li',
      {
        class: item.read ? 'item read' : 'item unread',
        'data-id': item.id,
        'data-read': String(item.read),
        'data-seen': String(item.seen),
        'data-archived': String(item.archived),
        'data-testid': 'notification',
      },
      h('span', { class: 'dot', 'aria-hidden': 'true' }),
      h(
        'div',
        { class: 'item-main' },
        h(
          'div',
          { class: 'item-head' },
          h('strong', { class: 'item-title' }, item.title),
          h('span', { class: 'tag' }, item.kind),
          item.seen ? null : h('span', { class: 'tag tag-new', 'data-testid': 'unseen' }, 'new'),
          this.targetTag(item),
          item.expiresAt
            ? h(
                'span',
                {
                  class: 'tag tag-expires',
                  'data-testid': 'expires',
                  title: new Date(item.expiresAt).toLocaleString(),
                },
                `expires ${clockTime(item.expiresAt)}`,
              )
            : null,
          h(
            'time',
            { datetime: item.createdAt, title: new Date(item.createdAt).toLocaleString() },
            timeAgo(item.createdAt),
          ),
        ),
        item.body ? h('p', { class: 'item-body' }, item.body) : null,
      ),
      h(
        'div',
        { class: 'item-actions' },
        item.read
          ? this.action(item, 'unread', 'Mark unread')
          : h(
              'button',
              { type: 'button', class: 'link', 'data-testid': 'mark-read', onclick: () => void this.read(item.id) },
              'Mark read',
            ),
        this.view === 'inbox' ? this.action(item, 'archived', 'Archive') : this.action(item, 'unarchived', 'Unarchive'),
        this.action(item, 'deleted', 'Delete'),
      ),
    )
  }

  private action(item: InboxItem, state: InboxState, label: string): HTMLElement {
    return h(
      'button',
      {
        type: 'button',
        class: state === 'deleted' ? 'link danger' : 'link',
        'data-testid': `state-${state}`,
        onclick: () => void this.change(item, state),
      },
      label,
    )
  }
}
