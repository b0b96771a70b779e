import { ClientFrame, type ErrorFrame, type WelcomeFrame } from '@herald/contracts'
import type { Inbox } from '@herald/inbox'
import { Compile } from 'typebox/compile'
import type { AckBatcher } from './ack-batcher'

/** Client frames are checked by one compiled validator. */
export const clientFrame = Compile(ClientFrame)

/** Where client frames go: acks to the replica's batcher, reads and state changes to the inbox. */
export interface FrameTarget {
  inbox: Inbox
  acks: AckBatcher
}

/**
 * What a client frame does, on a socket or over `POST /sse/frames`: an ack records the receipt
 * for the session's device (tabs of one browser count once), with the other acks of its window;
 * read and state change the inbox and reach the user's other sockets, not `origin`.
 */
export async function applyClientFrame(
  { inbox, acks }: FrameTarget,
  frame: ClientFrame,
  by: { userId: string; sessionId: string; origin?: string },
): Promise<unknown> {
  const opts = by.origin ? { origin: by.origin } : {}
  if (frame.type === 'ack') return acks.add(by.userId, by.sessionId, frame.ids)
  if (frame.type === 'read') return inbox.markRead(by.userId, frame.ids, opts)
  return inbox.setState(by.userId, frame.state, { ids: frame.ids }, opts)
}

/** `code` values of the `error` frames this gateway sends. */
export const FrameError = {
  INVALID_FRAME: 'INVALID_FRAME',
  RATE_LIMITED: 'RATE_LIMITED',
  INTERNAL_ERROR: 'INTERNAL_ERROR',
} as const

export function errorFrame(code: string, message: string): string {
  const f: ErrorFrame = { type: 'error', code, message }
  return JSON.stringify(f)
}

export function welcomeFrame(f: Omit<WelcomeFrame, 'type'>): string {
  const frame: WelcomeFrame = { type: 'welcome', ...f }
  return JSON.stringify(frame)
}

const CURSOR_RE = /^[0-9]{1,20}$/
export function isCursor(v: string): boolean {
  return CURSOR_RE.test(v)
}
