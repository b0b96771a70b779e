/**
 * Compile-time only: the client's own declarations must match @herald/contracts exactly,
 * so the dependency-free client never drifts from the server. `pnpm typecheck` fails otherwise.
 */
import type * as C from '@herald/contracts'
import type { CloseCode } from '../src/close-codes'
import type * as T from '../src/types'

type Equal<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false
type Assert<_ extends true> = never

export type Checks = [
  Assert<Equal<T.WelcomeFrame, C.WelcomeFrame>>,
  Assert<Equal<T.MessageFrame, C.MessageFrame>>,
  Assert<Equal<T.ReadFrame, C.ReadFrame>>,
  Assert<Equal<T.StateFrame, C.StateFrame>>,
  Assert<Equal<T.RetractFrame, C.RetractFrame>>,
  Assert<Equal<T.ErrorFrame, C.ErrorFrame>>,
  Assert<Equal<T.InboxItem, C.InboxItem>>,
  Assert<Equal<T.InboxPage, C.InboxPage>>,
  Assert<Equal<T.InboxCounts, C.InboxCounts>>,
  Assert<Equal<T.InboxState, C.InboxState>>,
  Assert<Equal<T.InboxFilter, C.InboxFilter>>,
  Assert<Equal<T.ClientFrame, C.ClientFrame>>,
  Assert<Equal<typeof T.MAX_IDS_PER_FRAME, typeof C.MAX_IDS_PER_FRAME>>,
  Assert<Equal<T.Preferences, C.PreferencesReply>>,
  Assert<Equal<T.Preferences['kinds'], C.PreferencesBody['kinds']>>,
  // the client's error codes are herald's, same name and value (NETWORK is the client's own)
  Assert<
    Equal<Omit<typeof T.ErrorCode, 'NETWORK'>, Pick<typeof C.ErrorCode, Exclude<keyof typeof T.ErrorCode, 'NETWORK'>>>
  >,
  // every server close code is known to the client, with the same number
  Assert<C.CloseCode extends CloseCode ? true : false>,
]
