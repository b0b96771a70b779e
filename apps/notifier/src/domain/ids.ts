import { createHash, randomBytes } from 'node:crypto'

function digest(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('base64url')
}

/**
 * The message an event becomes for one user (before the inbox adds the user's partition to
 * it). Deterministic, so a retried or stalled job writes the same id again and the inbox
 * drops the duplicate.
 */
export function messageIdFor(eventId: string, userId: string): string {
  return `m_${digest(eventId, userId).slice(0, 22)}`
}

/**
 * The one message id of an event that goes to everyone (the same id in every inbox).
 * `.all` tells the receipt lookup to merge the receipts of every partition.
 */
export function broadcastMessageIdFor(eventId: string): string {
  return `m_${digest(eventId).slice(0, 22)}.all`
}

export { jobIdFor } from '@herald/contracts'

/**
 * The id an event's messages derive from: the calling system and its event id, so one
 * system's `order-2002` never stands for (or pre-empts) another's. A POST /v1/messages
 * request id is caller-scoped already (derived from the caller, or random) and the route
 * answers with ids derived from it, so it is used as it is.
 */
export function deliveryIdFor(job: { id: string; source: string }, direct: boolean): string {
  return direct ? job.id : `${job.source}\0${job.id}`
}

/**
 * 16 random bytes per call, cut from a pool refilled 256 ids at a time: one getrandom call
 * per request was a measurable part of `POST /v1/messages` (Node's randomUUID pools the same way).
 */
const POOL_IDS = 256
let pool = Buffer.alloc(0)
let offset = 0
function random16(): Buffer {
  if (offset >= pool.length) {
    pool = randomBytes(16 * POOL_IDS)
    offset = 0
  }
  offset += 16
  return pool.subarray(offset - 16, offset)
}

/** Request id of `POST /v1/messages`: from the caller's Idempotency-Key when given, else random. */
export function messageRequestId(caller: string, idempotencyKey?: string): string {
  if (idempotencyKey) return `msg_${digest(caller, idempotencyKey).slice(0, 22)}`
  return `msg_${random16().toString('base64url')}`
}
