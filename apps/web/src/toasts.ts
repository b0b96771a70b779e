import { h } from './dom'

const MAX_VISIBLE = 4
const LIFETIME_MS = 6000

/** Short-lived cards in the corner for messages that arrive live; `messageId` lets `dismissToasts` take one back. */
export function toast(title: string, body: string, kind = 'info', messageId?: string): void {
  const box = document.getElementById('toasts')
  if (!box) return
  const card = h(
    'div',
    {
      class: `toast toast-${kind.replace(/[^a-z]/g, '')}`,
      role: 'status',
      'data-testid': 'toast',
      'data-id': messageId,
    },
    h('strong', {}, title),
    body ? h('span', {}, body) : null,
  )
  const remove = () => {
    card.classList.add('leaving')
    setTimeout(() => card.remove(), 200)
  }
  card.addEventListener('click', remove)
  box.append(card)
  while (box.children.length > MAX_VISIBLE) box.firstElementChild?.remove()
  setTimeout(remove, LIFETIME_MS)
}

/** The cards of these messages go at once (retracted by the sender, or expired). */
export function dismissToasts(messageIds: readonly string[]): void {
  const ids = new Set(messageIds)
  for (const card of document.querySelectorAll<HTMLElement>('#toasts [data-testid=toast][data-id]')) {
    if (ids.has(card.dataset.id as string)) card.remove()
  }
}
