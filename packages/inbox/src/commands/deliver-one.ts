import { LUA_LIB } from './lib'

/*
 * deliver-one: one message for one user, idempotent per (message id, user).
 * Input:
 *   KEYS[1] cursor      KEYS[2] delivery stream
 *   KEYS[3] inbox       KEYS[4] inbox messages   KEYS[5] unread   KEYS[6] inbox meta
 *   KEYS[7] message recipients set               KEYS[8] message receipt hash
 *   ARGV[1] user id     ARGV[2] message id       ARGV[3] frame tail (JSON of the message without '{' and cursor)
 *   ARGV[4] inbox max items   ARGV[5] retention (s)   ARGV[6] stream max length   ARGV[7] created at (ms)
 * Output: the new cursor, or false when this user already has this message.
 * The inbox write comes before the stream entry, in one atomic step: a client that sees
 * cursor C live can always recover every cursor below C from its inbox.
 */
export const DELIVER_ONE = `${LUA_LIB}
if redis.call('SADD', KEYS[7], ARGV[1]) == 0 then return false end
local ttl = tonumber(ARGV[5])
redis.call('EXPIRE', KEYS[7], ttl)
local c, cs = next_cursor(KEYS[1])
local frame = '{"type":"message","cursor":"' .. cs .. '",' .. ARGV[3]
inbox_write(KEYS[3], KEYS[4], KEYS[5], KEYS[6], ARGV[2], cs, c, frame, tonumber(ARGV[4]), ttl * 1000000, ttl)
redis.call('HSETNX', KEYS[8], 'userId', ARGV[1])
redis.call('HSETNX', KEYS[8], 'createdAt', ARGV[7])
redis.call('EXPIRE', KEYS[8], ttl)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[6], '*', 'k', 'm', 'u', ARGV[1], 'p', frame)
return cs
`
