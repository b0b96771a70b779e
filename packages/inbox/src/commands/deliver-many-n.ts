import { ROUTE_LIB } from '@herald/presence'
import { INBOX_LIB } from './lib'

/**
 * One message (one id) for a chunk of one partition's users: one cursor, one entry per gateway
 * holding any of them; each user's preference for the kind honoured in the same step.
 */
export const deliverMany = {
  name: 'heraldDeliverMany',
  lua: `${INBOX_LIB}${ROUTE_LIB}
--[[
  Input (the key count first):
    KEYS[1] the partition's cursor   KEYS[2] message recipients set   KEYS[3] message receipt hash
    KEYS[4..G+3] the streams of the partition's known gateway replicas
    then per user i (0-based): KEYS[G+4+9i .. G+12+9i] = inbox, inbox messages, unread, inbox meta,
    seen, archived, routes, preferences, push subscriptions
    ARGV[1] message id   ARGV[2] frame tail   ARGV[3] inbox max items   ARGV[4] retention (s)
    ARGV[5] stream max length   ARGV[6] created at (ms)   ARGV[7] source
    ARGV[8] the kind whose preference applies ('' for a kind nobody may mute)
    ARGV[9] devices: '' every session, '!s0' all but session s0
    ARGV[10] Web Push: '' off; else the users written with no live socket are checked for a subscription
    ARGV[11] G   ARGV[12..G+11] the replicas' names   ARGV[G+12] S   ARGV[G+13..G+S+12] replicas to skip
    ARGV[G+S+13..] the user ids, in KEYS order
  Output: {cursor or false, written, user…}: written = users that did not have it yet and did
  not turn its kind off; then the users it was written for with no live socket and a push
  subscription (Web Push on, kind not silent); {'!STALE', replica…} when a user has a route to
  a replica not in the call (nothing written). Each gateway gets ONE entry listing only its own
  users of the chunk; a user who set the kind 'silent' gets it in the inbox only.
]]
local g = tonumber(ARGV[11])
local s = tonumber(ARGV[g + 12])
local first_user = g + s + 13
local by_name = known_streams(4, 12, g)
local skip = set_of(g + 13, g + s + 12)
local routes = {}
local missing_all = nil
for i = first_user, #ARGV do
  local b = g + 4 + 9 * (i - first_user)
  local r, missing = routes_of(KEYS[b + 6], by_name, skip)
  if missing then
    missing_all = missing_all or {}
    for _, m in ipairs(missing) do missing_all[#missing_all + 1] = m end
  end
  routes[i] = r
end
if missing_all then return {'!STALE', unpack(missing_all)} end
local ttl = tonumber(ARGV[4])
local fresh = {}
local silent = {}
for i = first_user, #ARGV do
  if redis.call('SADD', KEYS[2], ARGV[i]) == 1 then
    local pref = false
    if ARGV[8] ~= '' then pref = redis.call('HGET', KEYS[g + 11 + 9 * (i - first_user)], ARGV[8]) end
    if pref ~= 'off' then fresh[#fresh + 1] = i end
    if pref == 'silent' then silent[i] = true end
  end
end
redis.call('EXPIRE', KEYS[2], ttl)
if #fresh == 0 then return {false, 0} end
local c, cs = next_cursor(KEYS[1])
local frame = '{"type":"message","cursor":"' .. cs .. '",' .. ARGV[2]
local per_stream = {}
local order = {}
local push = {}
for _, i in ipairs(fresh) do
  local b = g + 4 + 9 * (i - first_user)
  if ARGV[10] ~= '' and not silent[i] and #routes[i] == 0 and redis.call('EXISTS', KEYS[b + 8]) == 1 then
    push[#push + 1] = ARGV[i]
  end
  inbox_write(KEYS[b], KEYS[b + 1], KEYS[b + 2], KEYS[b + 3], KEYS[b + 4], KEYS[b + 5], ARGV[1], cs, c, frame, tonumber(ARGV[3]), ttl * 1000000, ttl)
  for _, st in ipairs(silent[i] and {} or routes[i]) do
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
  local users = table.concat(per_stream[st], ',')
  if ARGV[9] == '' then
    redis.call('XADD', st, 'MAXLEN', '~', ARGV[5], '*', 'k', 'm', 'u', users, 'c', cs, 'p', frame)
  else
    redis.call('XADD', st, 'MAXLEN', '~', ARGV[5], '*', 'k', 'm', 'u', users, 'c', cs, 'd', ARGV[9], 'p', frame)
  end
end
return {cs, #fresh, unpack(push)}
`,
} as const
