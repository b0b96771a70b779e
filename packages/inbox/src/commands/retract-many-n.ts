import { ROUTE_LIB } from '@herald/presence'
import { INBOX_LIB } from './lib'

/**
 * The retraction of a message to everyone, in one partition: marks the partition's receipt
 * retracted — or canceled, for a scheduled one — (from then on the delivery writes it for nobody
 * there), then removes it from a chunk of the partition's users' inboxes, with one `retract`
 * entry per gateway holding any of them. Called with no users first for every partition, then
 * chunk by chunk.
 */
export const retractMany = {
  name: 'heraldRetractMany',
  lua: `${INBOX_LIB}${ROUTE_LIB}
--[[
  Input (the key count first):
    KEYS[1] message receipt hash   KEYS[2] the partition's cursor   KEYS[3..G+2] the partition's known gateway streams
    KEYS[G+3] the partition's announcement frames   KEYS[G+4] their keep-until set
    ARGV[1] message id   ARGV[2] now (ms)   ARGV[3] retention (s)   ARGV[4] stream max length
    ARGV[5] the receipt field to mark: 'retractedAt', or 'canceledAt' (a scheduled message: no users)
    ARGV[6] G   ARGV[7..G+6] the replicas' names   ARGV[G+7] S   ARGV[G+8..G+S+7] replicas to skip
    ARGV[G+S+8..G+S+25] what surrounds the user id in each user key (before, after; in this order:
    inbox, inbox messages, unread, seen, archived, expiring, routes, change log, inbox meta)
    ARGV[G+S+26..] the user ids
  Output: how many inboxes held it; {'!STALE', replica…} when the replica list was stale (nothing written).
  Each inbox that held it notes the retract frame on its change log (one cursor for the chunk).
  The partition's stored frame goes with the first chunk: inboxes of later chunks no longer list it.
]]
local g = tonumber(ARGV[6])
local s = tonumber(ARGV[g + 7])
local parts = g + s + 8
local first_user = parts + 18
local function key(n, i) return user_key(parts, n, ARGV[i]) end
local by_name = known_streams(3, 7, g)
local skip = set_of(g + 8, g + s + 7)
local routes, missing = routes_of_users(first_user, function(i) return key(7, i) end, by_name, skip)
if missing then return {'!STALE', unpack(missing)} end
if redis.call('HSETNX', KEYS[1], ARGV[5], ARGV[2]) == 1 then
  redis.call('HSETNX', KEYS[1], 'userId', '*')
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
end
local id = ARGV[1]
redis.call('HDEL', KEYS[g + 3], id)
redis.call('ZREM', KEYS[g + 4], id)
local removed = 0
local per_stream = {}
local order = {}
local frame = '{"type":"retract","ids":["' .. id .. '"]}'
local ttl = tonumber(ARGV[3])
local c, cs = nil, nil
for i = first_user, #ARGV do
  if redis.call('ZREM', key(1, i), id) == 1 then
    if not c then c, cs = next_cursor(KEYS[2]) end
    log_change(key(8, i), key(9, i), cs, c, frame, ttl * 1000000, ttl)
    removed = removed + 1
    redis.call('HDEL', key(2, i), id)
    redis.call('ZREM', key(3, i), id)
    redis.call('ZREM', key(4, i), id)
    redis.call('ZREM', key(5, i), id)
    redis.call('ZREM', key(6, i), id)
    for _, st in ipairs(routes[i]) do
      if not per_stream[st] then
        per_stream[st] = {}
        order[#order + 1] = st
      end
      local l = per_stream[st]
      l[#l + 1] = ARGV[i]
    end
  end
end
for _, st in ipairs(order) do
  redis.call('XADD', st, 'MAXLEN', '~', ARGV[4], '*', 'k', 'r', 'u', table.concat(per_stream[st], ','), 'o', '', 'p', frame)
end
return removed
`,
} as const
