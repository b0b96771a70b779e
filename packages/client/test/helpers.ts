import { afterEach, beforeEach } from 'vitest'
import WebSocket from 'ws'
import { type ClientOptions, createClient, type HeraldClient } from '../src/index'
import type { ClientEvents, HeraldMessage, StatusEvent } from '../src/types'
import { type FakeHerald, startFakeHerald } from './fake-server'

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
  for (const name of ['message', 'read', 'state', 'retract', 'status', 'gap', 'connected', 'error'] as const) {
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

/** A fresh fake for each test of the file; the clients `record` made are stopped after it. */
export function fakePerTest(): { readonly fake: FakeHerald; record(opts?: Partial<ClientOptions>): Recorded } {
  let fake: FakeHerald | undefined
  const clients: HeraldClient[] = []
  beforeEach(async () => {
    fake = await startFakeHerald()
  })
  afterEach(async () => {
    for (const client of clients.splice(0)) client.stop()
    await fake?.close()
  })
  return {
    get fake() {
      if (!fake) throw new Error('the fake runs inside a test only')
      return fake
    },
    record(opts = {}) {
      const rec = recordedClient(this.fake, opts)
      clients.push(rec.client)
      return rec
    },
  }
}
