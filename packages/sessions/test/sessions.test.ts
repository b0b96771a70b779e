import { createKeys } from '@herald/keys'
import type { RedisClient } from '@herald/redis'
import { connectFor, redisModes, sleep, uniquePrefix } from '@herald/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashToken, SessionStore, tokenFromHeader } from '../src/store'

/** The same suite on one Redis, a Redis Cluster and a Sentinel-managed primary. */
describe.each(redisModes())('on %s Redis', (mode) => {
  let redis: RedisClient
  beforeAll(async () => {
    redis = await connectFor(mode)
  })
  afterAll(() => redis.quit())

  function store(idle = 60, maxAge = 3600) {
    const keys = createKeys(uniquePrefix('sess'), 8)
    return { keys, sessions: new SessionStore(redis, keys, { idleTtlSeconds: idle, maxAgeSeconds: maxAge }) }
  }
  const user = { userId: 'u1', nickname: 'Ann', phone: '+86138****5678', device: 'phone' }

  describe('SessionStore', () => {
    it('keeps only the SHA-256 of the token in Redis, with string fields and the idle TTL', async () => {
      const { keys, sessions } = store()
      const { token, record } = await sessions.create(user)
      expect(await redis.exists(keys.session(token))).toBe(0)
      const stored = await redis.hgetall(keys.session(hashToken(token)))
      expect(stored).toMatchObject({ id: record.id, userId: 'u1', device: 'phone' })
      expect(JSON.stringify(stored)).not.toContain(token)
      const ttl = await redis.pttl(keys.session(hashToken(token)))
      expect(ttl).toBeGreaterThan(59_000)
    })

    it('slides the expiry on every touch', async () => {
      const { keys, sessions } = store(30)
      const { token } = await sessions.create(user)
      const key = keys.session(hashToken(token))
      await redis.pexpire(key, 5000)
      expect(await sessions.touch(token)).toMatchObject({ userId: 'u1' })
      expect(await redis.pttl(key)).toBeGreaterThan(29_000)
    })

    it('never lets a session outlive its absolute cap', async () => {
      const { sessions } = store(60, 60)
      const now = Date.now()
      const { token } = await sessions.create(user, now)
      expect(await sessions.touch(token, now + 59_000)).not.toBeNull()
      expect(await sessions.touch(token, now + 60_001)).toBeNull()
      expect(await sessions.touch(token, now + 1000)).toBeNull()
    })

    it("touches a session named by its user and id in one step (a ticket's check), never another user's", async () => {
      const { keys, sessions } = store(30, 120)
      const now = Date.now()
      const { token, record } = await sessions.create(user, now)
      const key = keys.session(hashToken(token))
      await redis.pexpire(key, 5000)
      const found = await sessions.touchById('u1', record.id, now + 1000)
      expect(found).toEqual({
        tokenHash: hashToken(token),
        record: expect.objectContaining({ id: record.id, userId: 'u1' }),
      })
      expect(found?.record.lastSeenAt).toBe(String(now + 1000))
      expect(await redis.pttl(key)).toBeGreaterThan(29_000)
      expect(await sessions.touchById('u2', record.id, now)).toBeNull()
      expect(await sessions.touchById('u1', 'no-such-session', now)).toBeNull()
      expect(await sessions.touchById('u1', record.id, now + 120_001)).toBeNull()
      expect(await redis.exists(key)).toBe(0)
    })

    it('lists, revokes one and revokes all without scanning keys', async () => {
      const { sessions } = store()
      const a = await sessions.create(user)
      await sleep(2)
      const b = await sessions.create({ ...user, device: 'laptop' })
      expect((await sessions.list('u1')).map((s) => s.id)).toEqual([b.record.id, a.record.id])
      expect(await sessions.revoke('u1', a.record.id)).toBe(true)
      expect(await sessions.revoke('u1', a.record.id)).toBe(false)
      expect(await sessions.revoke('other', b.record.id)).toBe(false)
      expect(await sessions.touch(a.token)).toBeNull()
      expect(await sessions.revokeAll('u1')).toEqual([b.record.id])
      expect(await sessions.touch(b.token)).toBeNull()
      expect(await sessions.list('u1')).toEqual([])
    })

    it('refreshes many sessions in one pipeline', async () => {
      const { sessions } = store()
      const a = await sessions.create(user)
      const res = await sessions.touchManyHashes([hashToken(a.token), hashToken('nope')])
      expect(res[0]?.userId).toBe('u1')
      expect(res[1]).toBeNull()
    })

    it('reads Bearer and bare tokens, and ignores anything that is not one', () => {
      const t = '3b241101-e2bb-4255-8caf-4136c566a962'
      expect(tokenFromHeader(`Bearer ${t}`)).toBe(t)
      expect(tokenFromHeader(t)).toBe(t)
      expect(tokenFromHeader('Bearer x')).toBeNull()
      expect(tokenFromHeader(undefined)).toBeNull()
    })
  })
})
