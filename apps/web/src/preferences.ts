import { ErrorCode, type HeraldClient, HeraldHttpError, type Preferences, type PreferenceValue } from '@herald/client'
import { h } from './dom'

/** The kinds herald's catalog writes, listed before any of them arrives; kinds seen later join the list. */
const CATALOG_KINDS = ['account.login', 'announcement', 'chat.message', 'message', 'order.shipped']

const CHOICES: [PreferenceValue, string][] = [
  ['on', 'On'],
  ['silent', 'Silent (inbox only)'],
  ['off', 'Off'],
]

/**
 * `GET/PUT /inbox/preferences` through the SDK: one row per kind with on / silent / off; the
 * kinds herald lists as mandatory (security notices) are shown but cannot be changed.
 */
export function preferencesPanel(client: HeraldClient): {
  el: HTMLElement
  load(): Promise<void>
  see(kind: string): void
} {
  const rows = new Map<string, HTMLSelectElement>()
  let mandatory = new Set<string>()
  const list = h('ul', { class: 'prefs', 'data-testid': 'preferences' })
  const result = h('p', { class: 'hint', role: 'status', 'data-testid': 'preferences-result' })
  const save = h('button', { type: 'submit', class: 'secondary', 'data-testid': 'save-preferences' }, 'Save')

  const see = (kind: string) => {
    let select = rows.get(kind)
    if (!select) {
      select = h(
        'select',
        { 'aria-label': `Notifications of kind ${kind}` },
        ...CHOICES.map(([value, label]) => h('option', { value }, label)),
      )
      rows.set(kind, select)
      const row = h('li', { 'data-testid': 'preference', 'data-kind': kind }, h('code', {}, kind), select)
      const after = [...list.children].find((li) => (li as HTMLElement).dataset.kind! > kind)
      list.insertBefore(row, after ?? null)
    }
    const locked = mandatory.has(kind)
    select.disabled = locked
    const row = select.parentElement as HTMLElement
    row.querySelector('.pref-note')?.remove()
    if (locked) row.append(h('span', { class: 'hint pref-note' }, 'security notice: always delivered'))
  }

  const show = (prefs: Preferences) => {
    mandatory = new Set(prefs.mandatory)
    for (const kind of [...CATALOG_KINDS, ...prefs.mandatory, ...Object.keys(prefs.kinds)]) see(kind)
    for (const [kind, select] of rows) select.value = prefs.kinds[kind] ?? 'on'
  }

  const load = async () => {
    try {
      show(await client.getPreferences())
    } catch (err) {
      result.textContent = `Preferences: ${(err as Error).message}`
    }
  }

  const form = h('form', { class: 'stack' }, list, save, result)
  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    const kinds: Record<string, PreferenceValue> = {}
    for (const [kind, select] of rows) if (select.value !== 'on') kinds[kind] = select.value as PreferenceValue
    save.disabled = true
    try {
      show(await client.setPreferences(kinds))
      result.textContent = 'Saved.'
    } catch (err) {
      result.textContent =
        err instanceof HeraldHttpError && err.code === ErrorCode.KIND_NOT_MUTABLE
          ? `Not saved: ${err.message}.`
          : `Not saved: ${(err as Error).message}`
    } finally {
      save.disabled = false
    }
  })

  const el = h(
    'section',
    { class: 'card' },
    h('header', { class: 'card-head' }, h('h2', {}, 'Preferences')),
    h('p', { class: 'hint' }, 'Silent: kept in the inbox, no live toast. Off: not delivered at all.'),
    form,
  )
  return { el, load, see }
}
