import { ROUTE_LIB } from '@herald/presence'
import { INBOX_LIB } from './lib'

/**
 * The retraction of a message to everyone, in one partition: marks the partition's receipt
 * retracted — or canceled, for a scheduled one — (from then on it is written, sent and taken into
 * an inbox for nobody there), then removes it from a chunk of the partition's users' inboxes, with
 * one `retract` entry per gateway holding any of them. A user owed it who has not taken it in yet
 * (fan-out on read: a socket may show it) gets the retract frame too. Called with no users first
 * for every partition, then chunk by chunk.
 */
export const retractMany = {
  name: 'heraldRetractMany',
  lua: `${INBOX_LIB}${ROUTE_LIB}
--[[
  Input (the key count first):
    KEYS[1] message receipt hash   KEYS[2] the partition's cursor   KEYS[3..G+2] the partition's known gateway streams
    KEYS[G+3] the partition's announcement frames   KEYS[G+4] their keep-until set
    KEYS[G+5] the announcement log   KEYS[G+6] announcement attrs
    ARGV[1] message id   ARGV[2] now (ms)   ARGV[3] retention (s)   ARGV[4] stream max length
    ARGV[5] the receipt field to mark: 'retractedAt', or 'canceledAt' (a scheduled message: no users)
    ARGV[6] G   ARGV[7..G+6] the replicas' names   ARGV[G+7] S   ARGV[G+8..G+S+7] replicas to skip
    ARGV[G+S+8..G+S+29] what surrounds the user id in each user key (before, after; in this order:
    inbox, inbox messages, unread, seen, archived, expiring, routes, change log, inbox meta,
    user record, preferences)
    ARGV[G+S+30..] the user ids
  Output: how many inboxes held it; {'!STALE', replica…} when the replica list was stale (nothing written).
  Each inbox that held it, or was owed it, notes the retract frame on its change log (one cursor
  for the chunk).
  The partition's stored frame goes with the first chunk: inboxes of later chunks no longer list it.
]]
local g = tonumber(ARGV[6])
local s = tonumber(ARGV[g + 7])
local parts = g + s + 8
local first_user = parts + 22
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
-- kept in the log, marked: no inbox takes it in from now on, and this walk still tells the users owed it
local ann = redis.call('ZSCORE', KEYS[g + 5], id)
local json = ann and redis.call('HGET', KEYS[g + 6], id)
local attrs = json and cjson.decode(json)
if attrs and not attrs.r then
  attrs.r = 1
  redis.call('HSET', KEYS[g + 6], id, cjson.encode(attrs))
end
local now = now_ms()
-- owed it, held or not (a socket may show it before any read took it in, and a read after the
-- mark skips it): told all the same; a retract of an id a client does not hold changes nothing
local function owed(i)
  if not attrs then return false end
  local created = redis.call('HGET', key(10, i), 'createdAt')
  return created ~= false and announcement_owed(attrs, ann, created, key(11, i), now, true)
end
local removed = 0
local per_stream = {}
local order = {}
local frame = '{"type":"retract","ids":["' .. id .. '"]}'
local ttl = tonumber(ARGV[3])
local c, cs = nil, nil
for i = first_user, #ARGV do
  local held = redis.call('ZREM', key(1, i), id) == 1
  local tell = held or owed(i)
  if tell then
    if not c then c, cs = next_cursor(KEYS[2]) end
    log_change(key(8, i), key(9, i), cs, c, frame, ttl * 1000000, ttl)
  end
  if held then
    removed = removed + 1
    redis.call('HDEL', key(2, i), id)
    redis.call('ZREM', key(3, i), id)
    redis.call('ZREM', key(4, i), id)
    redis.call('ZREM', key(5, i), id)
    redis.call('ZREM', key(6, i), id)
  end
  if tell then
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
