import { Compile } from 'typebox/compile'
import { describe, expect, it } from 'vitest'
import { ClientFrame, CloseCode, MAX_IDS_PER_FRAME } from '../src/index'

describe('client frames', () => {
  const check = Compile(ClientFrame)
  it('accepts ack and read with message ids', () => {
    expect(check.Check({ type: 'ack', ids: ['m_1'] })).toBe(true)
    expect(check.Check({ type: 'read', ids: ['m_1', 'm_2'] })).toBe(true)
  })
  it('refuses unknown types, unknown fields, empty or oversized id lists and bad ids', () => {
    expect(check.Check({ type: 'hello' })).toBe(false)
    expect(check.Check({ type: 'ack', ids: ['m_1'], extra: 1 })).toBe(false)
    expect(check.Check({ type: 'ack', ids: [] })).toBe(false)
    expect(check.Check({ type: 'ack', ids: Array.from({ length: MAX_IDS_PER_FRAME + 1 }, (_, i) => `m${i}`) })).toBe(
      false,
    )
    expect(check.Check({ type: 'read', ids: ['has space'] })).toBe(false)
  })
})

describe('close codes', () => {
  it('are the numbers clients rely on', () => {
    expect(CloseCode).toMatchObject({
      POLICY_VIOLATION: 1008,
      MESSAGE_TOO_BIG: 1009,
      SERVICE_RESTART: 1012,
      TRY_AGAIN_LATER: 1013,
      UNAUTHORIZED: 4401,
      SESSION_ENDED: 4409,
    })
  })
})
