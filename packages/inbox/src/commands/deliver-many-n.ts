import { ROUTE_LIB } from '@herald/presence'
import { INBOX_LIB } from './lib'

/** One message (one id) for a chunk of one partition's users: one cursor, one entry per gateway holding any of them. */
export const deliverMany = {
  name: 'heraldDeliverMany',
  lua: `${INBOX_LIB}${ROUTE_LIB}
--[[
  Input (the key count first):
    KEYS[1] the partition's cursor   KEYS[2] message recipients set   KEYS[3] message receipt hash
    KEYS[4..G+3] the streams of the partition's known gateway replicas
    then per user i (0-based): KEYS[G+4+5i .. G+8+5i] = inbox, inbox messages, unread, inbox meta, routes
    ARGV[1] message id   ARGV[2] frame tail   ARGV[3] inbox max items   ARGV[4] retention (s)
    ARGV[5] stream max length   ARGV[6] created at (ms)   ARGV[7] source   ARGV[8] G
    ARGV[9..G+8] the replicas' names   ARGV[G+9] S   ARGV[G+10..G+S+9] replicas to skip
    ARGV[G+S+10..] the user ids, in KEYS order
  Output: {cursor or false, written}: written = users that did not have it yet;
  {'!STALE', replica…} when a user has a route to a replica not in the call (nothing written).
  Each gateway gets ONE entry listing only its own users of the chunk.
]]
local g = tonumber(ARGV[8])
local s = tonumber(ARGV[g + 9])
local first_user = g + s + 10
local by_name = known_streams(4, 9, g)
local skip = set_of(g + 10, g + s + 9)
local routes = {}
local missing_all = nil
for i = first_user, #ARGV do
  local b = g + 4 + 5 * (i - first_user)
  local r, missing = routes_of(KEYS[b + 4], by_name, skip)
  if missing then
    missing_all = missing_all or {}
    for _, m in ipairs(missing) do missing_all[#missing_all + 1] = m end
  end
  routes[i] = r
end
if missing_all then return {'!STALE', unpack(missing_all)} end
local ttl = tonumber(ARGV[4])
local fresh = {}
for i = first_user, #ARGV do
  if redis.call('SADD', KEYS[2], ARGV[i]) == 1 then fresh[#fresh + 1] = i end
end
redis.call('EXPIRE', KEYS[2], ttl)
if #fresh == 0 then return {false, 0} end
local c, cs = next_cursor(KEYS[1])
local frame = '{"type":"message","cursor":"' .. cs .. '",' .. ARGV[2]
local per_stream = {}
local order = {}
for _, i in ipairs(fresh) do
  local b = g + 4 + 5 * (i - first_user)
  inbox_write(KEYS[b], KEYS[b + 1], KEYS[b + 2], KEYS[b + 3], ARGV[1], cs, c, frame, tonumber(ARGV[3]), ttl * 1000000, ttl)
  for _, st in ipairs(routes[i]) do
    if not per_stream[st] then
      per_stream[st] = {}
      order[#order + 1] = st
    end
    local l = per_stream[st]
    l[#l + 1] = ARGV[i]
  end
end
redis.call('HSETNX', KEYS[3], 'userId', '*')
redis.call('HSETNX', KEYS[3], 'source', ARGV[7])
redis.call('HSETNX', KEYS[3], 'createdAt', ARGV[6])
redis.call('EXPIRE', KEYS[3], ttl)
for _, st in ipairs(order) do
  redis.call('XADD', st, 'MAXLEN', '~', ARGV[5], '*', 'k', 'm', 'u', table.concat(per_stream[st], ','), 'c', cs, 'p', frame)
end
return {cs, #fresh}
`,
} as const
