import { describe, expect, it } from 'vitest'
import { VerifiedTokens } from '../src/domain/verified-tokens'

const claims = (exp: number) => ({ sub: 's', aud: 'herald', iat: 0, exp, jti: 'j', scope: 'stats:read' })

describe('VerifiedTokens', () => {
  it('keeps a checked token until its exp, then forgets it', () => {
    let now = 1_000_000
    const v = new VerifiedTokens(10, () => now)
    v.set('Bearer a', claims(1_001))
    expect(v.get('Bearer a')?.sub).toBe('s')
    now = 1_001_000
    expect(v.get('Bearer a')).toBeUndefined()
    expect(v.get('Bearer b')).toBeUndefined()
  })

  it('holds at most `max` tokens, dropping the least recently used', () => {
    const v = new VerifiedTokens(2, () => 0)
    v.set('a', claims(10))
    v.set('b', claims(10))
    expect(v.get('a')).toBeDefined()
    v.set('c', claims(10))
    expect(v.get('b')).toBeUndefined()
    expect(v.get('a')).toBeDefined()
    expect(v.get('c')).toBeDefined()
  })
})
