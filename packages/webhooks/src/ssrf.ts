import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOneOptions } from 'node:dns'
import ipaddr from 'ipaddr.js'

/**
 * Where a webhook may be sent (SSRF). Only public unicast addresses pass: loopback, private,
 * link-local, CGNAT, multicast, reserved, IPv6 unique-local and link-local, and the IPv4-mapped
 * and translated IPv6 forms of those are refused — unless the deployment allows private
 * targets or lists the address's range. Checked at registration and again at connect time
 * (the `lookup` of every connection), so a DNS answer that changes after registration
 * (rebinding) cannot reach a refused address.
 */
export interface TargetPolicy {
  /** any address, private ones included (local stacks and tests) */
  allowPrivate: boolean
  /** plain http URLs as well as https */
  allowHttp: boolean
  /** ranges allowed even though private (an internal receiver) */
  allowedCidrs: readonly [ipaddr.IPv4 | ipaddr.IPv6, number][]
}

/** A policy from config values; `cidrs` is a comma-separated list (an invalid entry throws). */
export function targetPolicy(opts: { allowPrivate: boolean; allowHttp: boolean; cidrs: string }): TargetPolicy {
  const allowedCidrs = opts.cidrs
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean)
    .map((c) => {
      if (!ipaddr.isValidCIDR(c)) throw new Error(`not a CIDR range: ${c}`)
      return ipaddr.parseCIDR(c)
    })
  return { allowPrivate: opts.allowPrivate, allowHttp: opts.allowHttp, allowedCidrs }
}

/** True when a connection to this IP address is allowed. */
export function addressAllowed(policy: TargetPolicy, address: string): boolean {
  if (!ipaddr.isValid(address)) return false
  if (policy.allowPrivate) return true
  // ::ffff:127.0.0.1 is 127.0.0.1
  const addr = ipaddr.process(address)
  if (addr.range() === 'unicast') return true
  return policy.allowedCidrs.some(([net, bits]) => net.kind() === addr.kind() && addr.match(net, bits))
}

/** The host of a URL without IPv6 brackets. */
function bareHost(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
}

/**
 * What is wrong with a webhook URL without resolving it (null when nothing): not http(s),
 * http where only https is allowed, credentials in it, or a refused address literal.
 */
export function urlProblem(policy: TargetPolicy, raw: string): string | null {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return 'is not a valid URL'
  }
  if (url.protocol !== 'https:' && !(policy.allowHttp && url.protocol === 'http:'))
    return policy.allowHttp ? 'must be http or https' : 'must be https'
  if (url.username || url.password) return 'must not carry credentials'
  const host = bareHost(url)
  if (ipaddr.isValid(host)) return addressAllowed(policy, host) ? null : 'targets a refused address'
  if (!policy.allowPrivate && (host === 'localhost' || host.endsWith('.localhost'))) return 'targets a refused address'
  return null
}

/** node:dns `lookup`, or a stand-in with its signature (tests) */
export type LookupFn = typeof dnsLookup

/** Resolves the URL's host and refuses it when any of its addresses is refused (registration time). */
export async function resolvedUrlProblem(policy: TargetPolicy, raw: string, lookup: LookupFn = dnsLookup) {
  const problem = urlProblem(policy, raw)
  if (problem) return problem
  const host = bareHost(new URL(raw))
  if (ipaddr.isValid(host) || policy.allowPrivate) return null
  const addresses = await new Promise<LookupAddress[] | null>((resolve) =>
    lookup(host, { all: true }, (err, addrs) => resolve(err ? null : addrs)),
  )
  if (!addresses || addresses.length === 0) return 'has a host that does not resolve'
  return addresses.every((a) => addressAllowed(policy, a.address)) ? null : 'targets a refused address'
}

/**
 * A `lookup` for net/tls connections that fails when a resolved address is refused: the
 * connect-time check (a host that resolved to a public address at registration may not
 * resolve to a private one later).
 */
export function guardedLookup(policy: TargetPolicy, lookup: LookupFn = dnsLookup) {
  return (
    hostname: string,
    options: LookupOneOptions | LookupAllOptions,
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '')
      const refused = addresses.find((a) => !addressAllowed(policy, a.address))
      if (refused || addresses.length === 0) {
        const e: NodeJS.ErrnoException = new Error(`webhook target ${hostname} resolves to a refused address`)
        e.code = 'EREFUSEDTARGET'
        return callback(e, '')
      }
      if (options.all) return callback(null, addresses)
      const first = addresses[0] as LookupAddress
      callback(null, first.address, first.family)
    })
  }
}
