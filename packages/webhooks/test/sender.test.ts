import { startReceiver } from '@herald/test-utils/webhook-receiver'
import { afterEach, describe, expect, it } from 'vitest'
import { WebhookSender } from '../src/sender'
import { newSecret, signedHeaders, verify } from '../src/signer'
import { addressAllowed, resolvedUrlProblem, targetPolicy, urlProblem } from '../src/ssrf'

const strict = targetPolicy({ allowPrivate: false, allowHttp: false, cidrs: '' })
const local = targetPolicy({ allowPrivate: true, allowHttp: true, cidrs: '' })

describe('target policy (SSRF)', () => {
  it('allows only public unicast addresses by default', () => {
    for (const a of ['8.8.8.8', '2606:4700:4700::1111', '93.184.216.34'])
      expect(addressAllowed(strict, a), a).toBe(true)
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '255.255.255.255',
      '::1',
      '::',
      'fc00::1',
      'fd12::1',
      'fe80::1',
      'ff02::1',
      '::ffff:127.0.0.1',
      '::ffff:10.0.0.1',
      '64:ff9b::a00:1',
      'not-an-ip',
    ])
      expect(addressAllowed(strict, a), a).toBe(false)
  })

  it('lets configured ranges through, and everything when private targets are allowed', () => {
    const lan = targetPolicy({ allowPrivate: false, allowHttp: false, cidrs: '10.0.0.0/8, fd00::/8' })
    expect(addressAllowed(lan, '10.9.9.9')).toBe(true)
    expect(addressAllowed(lan, 'fd00::5')).toBe(true)
    expect(addressAllowed(lan, '192.168.0.1')).toBe(false)
    expect(addressAllowed(local, '127.0.0.1')).toBe(true)
    expect(() => targetPolicy({ allowPrivate: false, allowHttp: false, cidrs: '10.0.0.0/99' })).toThrow(/CIDR/)
  })

  it('refuses bad URLs before any request', async () => {
    expect(urlProblem(strict, 'https://hooks.example.com/x')).toBeNull()
    expect(urlProblem(strict, 'http://hooks.example.com/x')).toBe('must be https')
    expect(urlProblem(strict, 'ftp://hooks.example.com/x')).toBe('must be https')
    expect(urlProblem(strict, 'not a url')).toBe('is not a valid URL')
    expect(urlProblem(strict, 'https://user:pw@hooks.example.com/')).toBe('must not carry credentials')
    expect(urlProblem(strict, 'https://127.0.0.1/')).toBe('targets a refused address')
    expect(urlProblem(strict, 'https://[::ffff:7f00:1]/')).toBe('targets a refused address')
    expect(urlProblem(strict, 'https://localhost/')).toBe('targets a refused address')
    expect(urlProblem(strict, 'https://0x7f000001/')).toBe('targets a refused address')
    expect(urlProblem(local, 'http://127.0.0.1:9/')).toBeNull()
    // a name that resolves to a refused address, at registration
    const fakeDns = ((_h: string, _o: unknown, cb: (e: null, a: { address: string; family: number }[]) => void) =>
      cb(null, [{ address: '10.0.0.7', family: 4 }])) as never
    expect(await resolvedUrlProblem(strict, 'https://internal.example.com/', fakeDns)).toBe('targets a refused address')
  })
})

describe('signing (Standard Webhooks)', () => {
  it('makes signatures the standardwebhooks library accepts, and checks them', () => {
    const secret = newSecret()
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
    const body = '{"type":"message.read"}'
    const now = Date.now()
    const h = signedHeaders(secret, 'msg_1', Math.floor(now / 1000), body)
    expect(h['webhook-signature']).toMatch(/^v1,/)
    expect(verify(secret, h, body, { now })).toBe(true)
    expect(verify(secret, h, `${body} `, { now })).toBe(false)
    expect(verify(newSecret(), h, body, { now })).toBe(false)
    expect(verify(secret, h, body, { now: now + 600_000 })).toBe(false)
  })
})

describe('WebhookSender', () => {
  const closers: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const c of closers.splice(0)) await c()
  })

  it('POSTs a signed body the receiver verifies with the standardwebhooks library', async () => {
    const secret = newSecret()
    const rx = await startReceiver({ secret: () => secret })
    const sender = new WebhookSender({ policy: local, timeoutMs: 2000 })
    closers.push(
      () => rx.close(),
      () => sender.close(),
    )
    const body = JSON.stringify({ type: 'message.read', timestamp: new Date().toISOString(), data: { id: 'm1' } })
    const out = await sender.send(rx.url, secret, 'msg_abc', body)
    expect(out).toMatchObject({ ok: true, status: 200 })
    expect(rx.received).toHaveLength(1)
    expect(rx.received[0]?.headers['webhook-id']).toBe('msg_abc')
    expect(rx.received[0]?.verified).toEqual(JSON.parse(body))
  })

  it('counts non-2xx, redirects and hung receivers as failures, within the timeout', async () => {
    const answers: (number | 'hang')[] = [500, 302, 'hang']
    const rx = await startReceiver({ answer: (n) => answers[n - 1] ?? 200 })
    const sender = new WebhookSender({ policy: local, timeoutMs: 300 })
    closers.push(
      () => rx.close(),
      () => sender.close(),
    )
    const secret = newSecret()
    expect(await sender.send(rx.url, secret, 'a', '{}')).toMatchObject({ ok: false, status: 500, error: 'HTTP 500' })
    expect(await sender.send(rx.url, secret, 'b', '{}')).toMatchObject({ ok: false, status: 302 })
    const hung = await sender.send(rx.url, secret, 'c', '{}')
    expect(hung.ok).toBe(false)
    expect(hung.durationMs).toBeLessThan(2000)
    expect(rx.received).toHaveLength(3)
  })

  it('refuses a private target at connect time when the policy does not allow it', async () => {
    const rx = await startReceiver()
    const policy = targetPolicy({ allowPrivate: false, allowHttp: true, cidrs: '' })
    const sender = new WebhookSender({ policy, timeoutMs: 1000 })
    closers.push(
      () => rx.close(),
      () => sender.close(),
    )
    // by address: refused before connecting
    expect(await sender.send(rx.url, newSecret(), 'a', '{}')).toMatchObject({ ok: false })
    // by a name whose DNS answer is loopback (as a rebinding attack would make it): refused by the guarded lookup
    const dns = ((_h: string, _o: unknown, cb: (e: null, a: { address: string; family: number }[]) => void) =>
      cb(null, [{ address: '127.0.0.1', family: 4 }])) as never
    const rebound = new WebhookSender({ policy, timeoutMs: 1000, lookup: dns })
    const allowed = new WebhookSender({ policy: local, timeoutMs: 1000, lookup: dns })
    closers.push(
      () => rebound.close(),
      () => allowed.close(),
    )
    const named = await rebound.send(`http://hooks.example.com:${rx.port}/hooks`, newSecret(), 'b', '{}')
    expect(named).toMatchObject({ ok: false, error: 'EREFUSEDTARGET' })
    expect(rx.received).toHaveLength(0)
    // the same answer where private targets are allowed reaches the receiver: the lookup is the one used
    expect(await allowed.send(`http://hooks.example.com:${rx.port}/hooks`, newSecret(), 'c', '{}')).toMatchObject({
      ok: true,
    })
    expect(rx.received).toHaveLength(1)
  })
})
