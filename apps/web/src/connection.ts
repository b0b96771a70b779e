import type { ClientState, HeraldClient } from '@herald/client'
import { h } from './dom'

const LABEL: Record<ClientState, string> = {
  idle: 'Idle',
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  stopped: 'Stopped',
  ended: 'Session ended',
}

const TRANSPORT: Record<HeraldClient['transport'], string> = {
  websocket: 'WebSocket',
  sse: 'Server-Sent Events (WebSocket blocked)',
}

/** The status pill in the header and the details card: state, replica, transport, resumes and the last close code. */
export function connectionViews(client: HeraldClient): { pill: HTMLElement; card: HTMLElement } {
  const pill = h('span', { class: 'pill', 'data-testid': 'status', 'data-state': client.status })
  const replicaCell = h('dd', { 'data-testid': 'replica' }, '—')
  const transportCell = h('dd', { 'data-testid': 'transport', 'data-transport': client.transport }, '—')
  const stateCell = h('dd', {}, LABEL[client.status])
  const connIdCell = h('dd', { class: 'mono' }, '—')
  const cursorCell = h('dd', { class: 'mono' }, '—')
  const reconnectsCell = h('dd', { 'data-testid': 'reconnects' }, '0')
  const closeCell = h('dd', { 'data-testid': 'last-close' }, '—')
  let reconnects = 0

  const render = () => {
    const state = client.status
    pill.dataset.state = state
    pill.textContent = client.replica && state === 'connected' ? `${LABEL[state]} · ${client.replica}` : LABEL[state]
    stateCell.textContent = LABEL[state]
    replicaCell.textContent = client.replica ?? '—'
    transportCell.dataset.transport = client.transport
    transportCell.textContent = TRANSPORT[client.transport]
    connIdCell.textContent = client.connId ?? '—'
    cursorCell.textContent = client.lastCursor ?? '—'
    reconnectsCell.textContent = String(reconnects)
  }
  client.on('status', (s) => {
    if (s.newState === 'reconnecting' && s.oldState === 'connected') reconnects++
    if (s.code !== undefined) closeCell.textContent = s.reason ? `${s.code} (${s.reason})` : String(s.code)
    render()
  })
  client.on('connected', render)
  client.on('message', render)
  render()

  const card = h(
    'section',
    { class: 'card' },
    h('header', { class: 'card-head' }, h('h2', {}, 'Connection')),
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'Status'),
      stateCell,
      h('dt', {}, 'Gateway replica'),
      replicaCell,
      h('dt', {}, 'Transport'),
      transportCell,
      h('dt', {}, 'Connection id'),
      connIdCell,
      h('dt', {}, 'Last cursor'),
      cursorCell,
      h('dt', {}, 'Reconnects'),
      reconnectsCell,
      h('dt', {}, 'Last close'),
      closeCell,
    ),
    h(
      'p',
      { class: 'hint' },
      'Kill the gateway you are on: the page reconnects to another replica with since=<last cursor> and receives what it missed.',
    ),
  )
  return { pill, card }
}
