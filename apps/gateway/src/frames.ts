import { ClientFrame, type ErrorFrame, type WelcomeFrame } from '@herald/contracts'
import { Compile } from 'typebox/compile'

/** Client frames are checked by one compiled validator. */
export const clientFrame = Compile(ClientFrame)

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
