import { waitFor } from '@herald/test-utils'
import { UserStore } from '@herald/users'
import { afterEach, describe, expect, it } from 'vitest'
import { type Harness, harness } from './helpers'

let h: Harness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

/** The titles of the message frames on the stream of the replica that holds u1, oldest first. */
async function titles(hh: Harness): Promise<string[]> {
  return (await hh.entries()).flatMap(([, fields]) => {
    const p = fields[fields.indexOf('p') + 1]
    return p ? [(JSON.parse(p) as { title: string }).title] : []
  })
}

/** Alice (a real user) writes to u1 twice, renamed to Alicia in between: the two titles. */
async function twoMessages(hh: Harness): Promise<string[]> {
  const users = new UserStore(hh.redis, hh.keys)
  const { user: alice } = await users.findOrCreate('+15550100001', 'Alice')
  const send = async (id: string) => {
    const res = await hh.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: hh.auth(),
      payload: { id, type: 'chat.message', data: { fromUserId: alice.id, toUserId: 'u1', text: 'hi' } },
    })
    expect(res.statusCode).toBe(202)
    await waitFor(async () => (await titles(hh)).length === (id === 'chat-1' ? 1 : 2))
  }
  hh.startWorker()
  await send('chat-1')
  await users.rename(alice.id, 'Alicia')
  await send('chat-2')
  return titles(hh)
}

describe('nicknames in message text (NICKNAME_CACHE_MS)', () => {
  it("keeps a sender's nickname for the period: a rename does not show in the next message", async () => {
    h = await harness({ NICKNAME_CACHE_MS: 60_000 })
    expect(await twoMessages(h)).toEqual(['Message from Alice', 'Message from Alice'])
  })

  it('0 reads the nickname for every event: the rename shows in the very next message', async () => {
    h = await harness({ NICKNAME_CACHE_MS: 0 })
    expect(await twoMessages(h)).toEqual(['Message from Alice', 'Message from Alicia'])
  })
})
