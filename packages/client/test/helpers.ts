import WebSocket from 'ws'
import { type ClientOptions, createClient, type HeraldClient } from '../src/index'
import type { ClientEvents, HeraldMessage, StatusEvent } from '../src/types'
import type { FakeHerald } from './fake-server'

export interface Recorded {
  client: HeraldClient
  messages: HeraldMessage[]
  statuses: StatusEvent[]
  events: { [K in keyof ClientEvents]?: ClientEvents[K][] }
  authErrors: { status: number; message: string }[]
  tokenCalls: number
}

/** A client of the fake with fast reconnects, recording everything it emits. */
export function recordedClient(fake: FakeHerald, opts: Partial<ClientOptions> = {}): Recorded {
  const rec: Recorded = {
    client: undefined as unknown as HeraldClient,
    messages: [],
    statuses: [],
    events: {},
    authErrors: [],
    tokenCalls: 0,
  }
  rec.client = createClient({
    baseUrl: fake.url,
    WebSocket,
    getToken: () => {
      rec.tokenCalls++
      return 'token-1'
    },
    onAuthError: (e) => rec.authErrors.push(e),
    minReconnectDelay: 20,
    maxReconnectDelay: 200,
    ackDelay: 30,
    ...opts,
  })
  for (const name of ['message', 'read', 'status', 'gap', 'connected', 'error'] as const) {
    rec.client.on(name, (payload) => {
      const list = (rec.events[name] ?? []) as unknown[]
      list.push(payload)
      rec.events[name] = list as never
    })
  }
  rec.client.on('message', (m) => rec.messages.push(m))
  rec.client.on('status', (s) => rec.statuses.push(s))
  return rec
}

export const transitions = (rec: Recorded) => rec.statuses.map((s) => `${s.oldState}→${s.newState}`)
