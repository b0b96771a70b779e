import { LUA_LIB } from './lib'

/*
 * deliver-many: one message (one id) for a chunk of users, one cursor and ONE stream entry.
 * Input:
 *   KEYS[1] cursor   KEYS[2] delivery stream   KEYS[3] message recipients set   KEYS[4] message receipt
 *   then for each user i (0-based): KEYS[5+4i..8+4i] = inbox, inbox messages, unread, inbox meta
 *   ARGV[1] message id   ARGV[2] frame tail   ARGV[3] inbox max items   ARGV[4] retention (s)
 *   ARGV[5] stream max length   ARGV[6] created at (ms)   ARGV[7..] the user ids, in KEYS order
 * Output: {cursor, written} — written = number of users that did not have it yet.
 */
export const DELIVER_MANY = `${LUA_LIB}
local ttl = tonumber(ARGV[4])
local fresh = {}
local fresh_idx = {}
for i = 7, #ARGV do
  if redis.call('SADD', KEYS[3], ARGV[i]) == 1 then
    fresh[#fresh + 1] = ARGV[i]
    fresh_idx[#fresh_idx + 1] = i - 7
  end
end
redis.call('EXPIRE', KEYS[3], ttl)
if #fresh == 0 then return {false, 0} end
local c, cs = next_cursor(KEYS[1])
local frame = '{"type":"message","cursor":"' .. cs .. '",' .. ARGV[2]
for j = 1, #fresh_idx do
  local b = 5 + 4 * fresh_idx[j]
  inbox_write(KEYS[b], KEYS[b + 1], KEYS[b + 2], KEYS[b + 3], ARGV[1], cs, c, frame, tonumber(ARGV[3]), ttl * 1000000, ttl)
end
redis.call('HSETNX', KEYS[4], 'userId', '*')
redis.call('HSETNX', KEYS[4], 'createdAt', ARGV[6])
redis.call('EXPIRE', KEYS[4], ttl)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', 'k', 'm', 'u', table.concat(fresh, ','), 'p', frame)
return {cs, #fresh}
`
