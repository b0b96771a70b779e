import { ROUTE_LIB } from '@herald/presence'
import { INBOX_LIB } from './lib'

/**
 * `DELETE /v1/messages/:id` for one user's message: before it is written (a scheduled
 * message), it is canceled — its receipt is marked canceled, so the delivery writes nothing;
 * once written, it is retracted — removed from the inbox, and the user's sockets get a `retract`
 * frame. One atomic step; a second call answers what the first did.
 */
export const retract = {
  name: 'heraldRetract',
  lua: `${INBOX_LIB}${ROUTE_LIB}
--[[
  Input (the key count first):
    KEYS[1] message recipients set (marked on a cancel for the previous release's deliveries,
    which claim a message by it)   KEYS[2] message receipt hash
    KEYS[3] inbox   KEYS[4] inbox messages   KEYS[5] unread   KEYS[6] seen   KEYS[7] archived   KEYS[8] expiring
    KEYS[9] the user's routes hash   KEYS[10..G+9] the partition's known gateway streams
    KEYS[G+10] the partition's cursor   KEYS[G+11] the user's change log   KEYS[G+12] inbox meta
    ARGV[1] user id   ARGV[2] message id   ARGV[3] now (ms)   ARGV[4] retention (s)   ARGV[5] stream max length
    ARGV[6] G   ARGV[7..G+6] the replicas' names   ARGV[G+7] S   ARGV[G+8..G+S+7] replicas to skip
  Output: 'canceled' | 'retracted'; {'!STALE', replica…} when the replica list was stale (nothing written).
  The retract frame goes to the user's sockets and onto the change log.
]]
local g = tonumber(ARGV[6])
local s = tonumber(ARGV[g + 7])
local streams, missing = routes_of(KEYS[9], known_streams(10, 7, g), set_of(g + 8, g + s + 7))
if missing then return {'!STALE', unpack(missing)} end
if redis.call('HEXISTS', KEYS[2], 'retractedAt') == 1 then return 'retracted' end
if redis.call('HEXISTS', KEYS[2], 'canceledAt') == 1 then return 'canceled' end
local now = ARGV[3]
local ttl = tonumber(ARGV[4])
-- a scheduled message's marker outlasts its due time by the retention, like the delivery's would
local due = tonumber(redis.call('HGET', KEYS[2], 'dueAt') or '0')
local keep = ttl + math.max(0, math.ceil((due - tonumber(now)) / 1000))
-- not written yet (a written receipt has createdAt, or expired when it was past its expiry)
local written = redis.call('HMGET', KEYS[2], 'createdAt', 'expired')
if not written[1] and not written[2] then
  redis.call('HSET', KEYS[2], 'canceledAt', now)
  redis.call('EXPIRE', KEYS[2], keep)
  -- for the previous release's deliveries, which claim a message by this set: drop once none runs
  redis.call('SADD', KEYS[1], ARGV[1])
  redis.call('EXPIRE', KEYS[1], keep)
  return 'canceled'
end
redis.call('HSET', KEYS[2], 'retractedAt', now)
if redis.call('ZREM', KEYS[3], ARGV[2]) == 0 then return 'retracted' end
redis.call('HDEL', KEYS[4], ARGV[2])
redis.call('ZREM', KEYS[5], ARGV[2])
redis.call('ZREM', KEYS[6], ARGV[2])
redis.call('ZREM', KEYS[7], ARGV[2])
redis.call('ZREM', KEYS[8], ARGV[2])
local frame = '{"type":"retract","ids":["' .. ARGV[2] .. '"]}'
local c, cs = next_cursor(KEYS[g + 10])
log_change(KEYS[g + 11], KEYS[g + 12], cs, c, frame, ttl * 1000000, ttl)
for _, st in ipairs(streams) do
  redis.call('XADD', st, 'MAXLEN', '~', ARGV[5], '*', 'k', 'r', 'u', ARGV[1], 'o', '', 'p', frame)
end
return 'retracted'
`,
} as const
