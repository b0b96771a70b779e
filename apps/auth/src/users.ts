import type { User } from '@herald/contracts'
import type { UserRecord } from '@herald/users'
import { maskPhone } from './phone'

export { newUserId, type UserRecord, UserStore } from '@herald/users'

/** What pages see of a user: the phone masked. */
export function userView(u: UserRecord): User {
  return { id: u.id, nickname: u.nickname, phone: maskPhone(u.phone) }
}
