import { NotifierErrors } from '../errors'

/**
 * The expiry (epoch ms) a request asks for: `ttl` seconds after it is due, or `expiresAt`;
 * undefined when neither is given. An expiry that is not after the moment the message is due
 * (now, or `deliverAt`) would write nothing: refused with 400 INVALID_EXPIRY.
 */
export function expiryOf(req: { ttl?: number; expiresAt?: string }, dueAt: number): number | undefined {
  if (req.ttl !== undefined && req.expiresAt !== undefined)
    throw new NotifierErrors.InvalidExpiry('Give ttl or expiresAt, not both')
  if (req.ttl !== undefined) return dueAt + req.ttl * 1000
  if (req.expiresAt === undefined) return undefined
  const at = Date.parse(req.expiresAt)
  if (!Number.isFinite(at)) throw new NotifierErrors.InvalidExpiry('expiresAt is not a date-time')
  if (at <= dueAt) throw new NotifierErrors.InvalidExpiry('expiresAt must be after now and after deliverAt')
  return at
}
