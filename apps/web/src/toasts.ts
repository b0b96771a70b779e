import { h } from './dom'

const MAX_VISIBLE = 4
const LIFETIME_MS = 6000

/** Short-lived cards in the corner for messages that arrive live. */
export function toast(title: string, body: string, kind = 'info'): void {
  const box = document.getElementById('toasts')
  if (!box) return
  const card = h(
    'div',
    { class: `toast toast-${kind.replace(/[^a-z]/g, '')}`, role: 'status', 'data-testid': 'toast' },
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
