import type { ServiceClaims } from '@herald/contracts'

/**
 * Service tokens whose signature and claims were checked, by their exact `Authorization`
 * value, until the token expires: a calling system sends the same token thousands of times a
 * second, and checking its HMAC, decoding it and walking @fastify/jwt's steps each time was a
 * visible share of `POST /v1/messages`. Bounded (least recently used goes first); only tokens
 * that passed every check are kept. Revocation is not cached here: it is checked on every call.
 */
export class VerifiedTokens {
  private readonly entries = new Map<string, { claims: ServiceClaims; until: number }>()

  constructor(
    /** @default 1000 */
    private readonly max = 1000,
    private readonly clock: () => number = Date.now,
  ) {}

  get(authorization: string): ServiceClaims | undefined {
    const e = this.entries.get(authorization)
    if (!e) return undefined
    this.entries.delete(authorization)
    if (this.clock() >= e.until) return undefined
    this.entries.set(authorization, e)
    return e.claims
  }

  /** Keeps the claims until `exp` (epoch s). */
  set(authorization: string, claims: ServiceClaims): void {
    if (typeof claims.exp !== 'number') return
    this.entries.delete(authorization)
    if (this.entries.size >= this.max) {
      const oldest = this.entries.keys().next().value
      if (oldest !== undefined) this.entries.delete(oldest)
    }
    this.entries.set(authorization, { claims, until: claims.exp * 1000 })
  }
}
