/**
 * herald's WebSocket close codes (docs/protocol.md), copied so the client has no runtime
 * dependency. Kept in step with `CloseCode` of @herald/contracts by test/contract-types.ts.
 */
export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  ABNORMAL: 1006,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  SERVICE_RESTART: 1012,
  TRY_AGAIN_LATER: 1013,
  UNAUTHORIZED: 4401,
  SESSION_ENDED: 4409,
} as const
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode]
