import { describe, expect, it } from 'vitest'
import { parseRedisUrl, redactRedisUrl } from '../src/url'

describe('parseRedisUrl', () => {
  it('reads one server with credentials and a database', () => {
    expect(parseRedisUrl('redis://app:s%40cret@10.0.0.5:6380/2')).toEqual({
      kind: 'single',
      tls: false,
      host: '10.0.0.5',
      port: 6380,
      username: 'app',
      password: 's@cret',
      db: 2,
    })
  })

  it('reads a password without a user, the default port and TLS', () => {
    expect(parseRedisUrl('rediss://:pw@redis.example.com')).toEqual({
      kind: 'single',
      tls: true,
      host: 'redis.example.com',
      port: 6379,
      password: 'pw',
      db: 0,
    })
  })

  it('reads an IPv6 host', () => {
    expect(parseRedisUrl('redis://[::1]:7000')).toMatchObject({ host: '::1', port: 7000 })
  })

  it('reads sentinels, the master name and the sentinel password', () => {
    expect(
      parseRedisUrl('redis+sentinel://:data%2Fpw@127.0.0.1:26379,127.0.0.1:26380,s3/mymaster?sentinelPassword=sp&db=3'),
    ).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: '127.0.0.1', port: 26379 },
        { host: '127.0.0.1', port: 26380 },
        { host: 's3', port: 26379 },
      ],
      name: 'mymaster',
      password: 'data/pw',
      sentinelPassword: 'sp',
      db: 3,
    })
  })

  it('reads cluster seed nodes', () => {
    expect(parseRedisUrl('redis+cluster://u:p@a:7000,b:7001')).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'a', port: 7000 },
        { host: 'b', port: 7001 },
      ],
      username: 'u',
      password: 'p',
    })
  })

  it.each([
    ['http://127.0.0.1:6379', 'unknown scheme'],
    ['127.0.0.1:6379', 'not a URL'],
    ['redis://', 'no host'],
    ['redis://a:1,b:2', 'takes one host'],
    ['redis://host:99999', 'no valid port'],
    ['redis://host:6379/x', 'database "x"'],
    ['redis+sentinel://a:1,b:2', 'no master name'],
    ['redis+sentinel://a:1/m?foo=1', 'unknown parameter "foo"'],
    ['redis+cluster://a:1,b:2/0', 'only database 0'],
    ['redis+cluster://a:1,,b:2', 'host 2 of 3 is not host:port'],
    ['redis://?x', 'no host'],
  ])('rejects %s naming REDIS_URL', (url, why) => {
    expect(() => parseRedisUrl(url)).toThrow(/^REDIS_URL is invalid: /)
    expect(() => parseRedisUrl(url)).toThrow(why)
  })

  it('never repeats a password in an error, even a badly encoded one', () => {
    const secrets = ['hunter2', 'sent1nel']
    for (const url of [
      'redis://:hunter2@host:notaport',
      'redis://:hun/ter2@host:6379',
      'redis://:hunter2@a:1,b:2',
      'redis+sentinel://:hunter2@a:1?sentinelPassword=sent1nel',
      'redis+cluster://user:hunter2@a:1/x',
      'redis://:hunter2%zz@host:6379',
    ]) {
      let message = ''
      try {
        parseRedisUrl(url)
      } catch (err) {
        message = (err as Error).message
      }
      expect(message, url).toMatch(/REDIS_URL/)
      for (const s of secrets) expect(message, url).not.toContain(s)
      expect(message, url).not.toContain('ter2')
    }
  })

  it('names another variable when asked', () => {
    expect(() => parseRedisUrl('nope', 'QUEUE_REDIS_URL')).toThrow(/^QUEUE_REDIS_URL is invalid/)
  })
})

describe('redactRedisUrl', () => {
  it('hides credentials and query secrets, keeps hosts and db', () => {
    expect(redactRedisUrl('redis+sentinel://u:p@h:1,h:2/m?sentinelPassword=x&db=2')).toBe(
      'redis+sentinel://***@h:1,h:2/m?sentinelPassword=***&db=2',
    )
    expect(redactRedisUrl('redis://h:1')).toBe('redis://h:1')
  })
})
