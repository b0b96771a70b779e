import { describe, expect, it } from 'vitest'
import { createKeys, DEFAULT_PREFIX } from '../src/index'

describe('createKeys', () => {
  const keys = createKeys('p1:')
  const builders = Object.entries(keys).filter(([, v]) => typeof v === 'function') as [
    string,
    (...a: string[]) => string,
  ][]

  it('puts every key under the prefix', () => {
    for (const [name, build] of builders) expect(build('x', 'y').startsWith('p1:'), name).toBe(true)
    expect(createKeys().stream().startsWith(DEFAULT_PREFIX)).toBe(true)
  })

  it('never builds the same key for two purposes', () => {
    const seen = new Map<string, string>()
    for (const [name, build] of builders) {
      const key = build('same-id', 'same-day')
      expect(seen.get(key), `${name} collides with ${seen.get(key)}`).toBeUndefined()
      seen.set(key, name)
    }
  })

  it('keeps two prefixes apart', () => {
    const other = createKeys('p2:')
    expect(other.session('h')).not.toBe(keys.session('h'))
  })
})
