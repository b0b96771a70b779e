import calculateSlot from 'cluster-key-slot'
import { describe, expect, it } from 'vitest'
import { createKeys, DEFAULT_PREFIX } from '../src/index'

/** The hash tag of a key, as Redis Cluster reads it. */
const tagOf = (key: string) => key.slice(key.indexOf('{') + 1, key.indexOf('}'))

describe('createKeys', () => {
  const keys = createKeys('p1:', 16)
  const builders = Object.entries(keys).filter(
    ([name, v]) =>
      typeof v === 'function' && !['partitionOf', 'allPartitions', 'partitionTag', 'aroundUser'].includes(name),
  ) as [string, (...a: (string | number)[]) => string][]
  const call = (name: string, build: (...a: (string | number)[]) => string, id: string) =>
    /^(partitionUsers|onlineUsers|cursor)$/.test(name)
      ? build(3)
      : /^(replicaConnections|replicaUsers|gatewayStream|message)/.test(name)
        ? build(3, id)
        : build(id, 'same-day')

  it('puts every key under the prefix', () => {
    for (const [name, build] of builders) expect(call(name, build, 'x').startsWith('p1:'), name).toBe(true)
    expect(createKeys().replicas().startsWith(DEFAULT_PREFIX)).toBe(true)
  })

  it('never builds the same key for two purposes', () => {
    const seen = new Map<string, string>()
    for (const [name, build] of builders) {
      const key = call(name, build, 'same-id')
      expect(seen.get(key), `${name} collides with ${seen.get(key)}`).toBeUndefined()
      seen.set(key, name)
    }
  })

  it('keeps two prefixes apart', () => {
    const other = createKeys('p2:', 16)
    expect(other.session('h')).not.toBe(keys.session('h'))
  })

  it("puts every key of a user's partition in one slot (one script, one slot on Redis Cluster)", () => {
    const u = 'u_0123456789abcdef'
    const p = keys.partitionOf(u)
    const userKeys = [
      keys.user(u),
      keys.userSessions(u),
      keys.presence(u),
      keys.routes(u),
      keys.inbox(u),
      keys.inboxMessages(u),
      keys.inboxUnread(u),
      keys.inboxMeta(u),
      keys.inboxSeen(u),
      keys.inboxArchived(u),
      keys.cursor(p),
      keys.partitionUsers(p),
      keys.onlineUsers(p),
      keys.gatewayStream(p, 'gw-1'),
      keys.replicaConnections(p, 'gw-1'),
      keys.messageReceipt(p, 'm_1.p3'),
    ]
    expect(new Set(userKeys.map((k) => calculateSlot(k))).size).toBe(1)
    const phone = '+8613800138000'
    const phoneKeys = [keys.otp(phone), keys.otpCooldown(phone), keys.otpFailures(phone), keys.phoneUser(phone)]
    expect(new Set(phoneKeys.map(calculateSlot)).size).toBe(1)
  })

  it('says what surrounds the user id in a user key, so a script can build the keys of any user of a partition', () => {
    const builders = [
      keys.inbox,
      keys.inboxMessages,
      keys.inboxUnread,
      keys.inboxMeta,
      keys.routes,
      keys.preferences,
      keys.pushSubscriptions,
      keys.inboxChanges,
    ]
    for (let n = 0; n < 200; n++) {
      const u = `u_${n.toString(16).padStart(16, '0')}`
      for (const build of builders) {
        const [before, after] = keys.aroundUser(keys.partitionOf(u), build)
        expect(before + u + after).toBe(build(u))
      }
    }
    expect(() => keys.aroundUser(0, () => 'herald:{x}:no-user-here')).toThrow(/not a user key/)
    expect(() => keys.aroundUser(0, (u) => keys.partitionUsers(keys.partitionOf(u)))).toThrow(/not a user key/)
    // worked out once per builder and partition
    expect(keys.aroundUser(1, keys.inbox)).toBe(keys.aroundUser(1, keys.inbox))
    expect(keys.aroundUser(1, keys.inbox)).not.toBe(keys.aroundUser(2, keys.inbox))
  })

  it('spreads partitions evenly over the slots, and users evenly over partitions', () => {
    const slots = keys.allPartitions().map((p) => calculateSlot(keys.cursor(p)))
    slots.forEach((slot, i) => {
      expect(slot).toBeGreaterThanOrEqual(Math.floor((i * 16384) / 16))
      expect(slot).toBeLessThan(Math.floor(((i + 1) * 16384) / 16))
    })
    const counts = new Array(16).fill(0)
    for (let i = 0; i < 16_000; i++) counts[keys.partitionOf(`u_${i.toString(16).padStart(16, '0')}`)]++
    for (const c of counts) expect(c).toBeGreaterThan(800)
    expect(tagOf(keys.cursor(0))).toBe(keys.partitionTag(0))
  })

  it('gives BullMQ a hash-tagged prefix', () => {
    expect(keys.bullPrefix()).toMatch(/\{[^}]+\}$/)
  })

  it('refuses a partition count it cannot serve', () => {
    expect(() => createKeys('h:', 0)).toThrow(/partitions/)
    expect(() => createKeys('h:', 1.5)).toThrow(/partitions/)
  })
})
