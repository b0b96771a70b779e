/** The BullMQ queue of Web Push sends (the notifier worker consumes it). */
export const PUSH_QUEUE = 'push'

/**
 * One message to push to every subscription of one user. The content is the message frame's
 * (id, kind, title, body), copied when the message is written, so a send reads no inbox.
 */
export interface PushJob {
  userId: string
  messageId: string
  kind: string
  title: string
  body: string
  /** a security notice (the catalog's mandatory kinds): sent with urgency high */
  mandatory?: boolean
  /** epoch ms: the message's expiry — not sent past it, and the push service keeps it no longer */
  expiresAt?: number
  /** the user was online when it was written: send only if no device has acked it by then */
  unlessDelivered?: boolean
  /** subscriptions already done (sent, gone or refused) by earlier attempts of this job */
  done?: string[]
}

/** What the service worker receives (the decrypted push payload, JSON). */
export interface PushPayload {
  id: string
  kind: string
  title: string
  body: string
}
