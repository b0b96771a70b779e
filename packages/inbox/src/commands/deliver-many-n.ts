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
    KEYS[G+4] the partition's announcement frames   KEYS[G+5] their keep-until set
    ARGV[1] message id   ARGV[2] frame tail   ARGV[3] inbox max items   ARGV[4] retention (s)
    ARGV[5] stream max length   ARGV[6] created at (ms)   ARGV[7] source
    ARGV[8] the kind whose preference applies ('' for a kind nobody may mute)
    ARGV[9] devices: '' every session, '!s0' all but session s0
    ARGV[10] Web Push: '' off; else the users written with no live socket are checked for a subscription
    ARGV[11] expires at (ms), '' for never
    ARGV[12] G   ARGV[13..G+12] the replicas' names   ARGV[G+13] S   ARGV[G+14..G+S+13] replicas to skip
    ARGV[G+S+14..G+S+33] what surrounds the user id in each user key (before, after; USER_KEYS'
    order: inbox, inbox messages, unread, inbox meta, seen, archived, expiring, routes,
    preferences, push subscriptions)
    ARGV[G+S+34..] the user ids
  Output: {cursor or false, written, user…}: written = users that did not have it yet and did
  not turn its kind off; then the users it was written for with no live socket and a push
  subscription (Web Push on, kind not silent), and those of a retry it was written for before who
  still owe one (unread, no live socket, a subscription); {'!STALE', replica…} when a user has a route to
  a replica not in the call (nothing written). Each gateway gets ONE entry listing only its own
  users of the chunk; a user who set the kind 'silent' gets it in the inbox only.
  Nothing is written once the message was taken back (its receipt has retractedAt or
  canceledAt: the retraction walks the users after marking every partition) or past its expiry.
  The frame is stored once for the partition (store_announcement), not in each inbox's hash.
]]
local g = tonumber(ARGV[12])
local s = tonumber(ARGV[g + 13])
local parts = g + s + 14
local first_user = parts + 20
local function key(n, i) return user_key(parts, n, ARGV[i]) end
local by_name = known_streams(4, 13, g)
local skip = set_of(g + 14, g + s + 13)
local routes, missing = routes_of_users(first_user, function(i) return key(8, i) end, by_name, skip)
if missing then return {'!STALE', unpack(missing)} end
local ttl = tonumber(ARGV[4])
local exp = ARGV[11]
local taken_back = redis.call('HMGET', KEYS[3], 'retractedAt', 'canceledAt')
if taken_back[1] or taken_back[2] then return {false, 0} end
if exp ~= '' and now_ms() >= tonumber(exp) then
  redis.call('HSETNX', KEYS[3], 'userId', '*')
  redis.call('HSETNX', KEYS[3], 'source', ARGV[7])
  redis.call('HSET', KEYS[3], 'expiresAt', exp, 'expired', '1')
  redis.call('EXPIRE', KEYS[3], ttl)
  return {false, 0}
end
local fresh = {}
local silent = {}
local push = {}
for i = first_user, #ARGV do
  if redis.call('SADD', KEYS[2], ARGV[i]) == 1 then
    local pref = false
    if ARGV[8] ~= '' then pref = redis.call('HGET', key(9, i), ARGV[8]) end
    if pref ~= 'off' then fresh[#fresh + 1] = i end
    if pref == 'silent' then silent[i] = true end
  elseif ARGV[10] ~= '' and #routes[i] == 0 and redis.call('ZSCORE', key(3, i), ARGV[1]) then
    -- written before (a retried delivery): nothing is written again, but a push still owed —
    -- unread, no live socket, not silent, a subscription — is asked for again, in case the first
    -- run's caller could not queue it (the push job's id dedupes a second one)
    local pref = ARGV[8] ~= '' and redis.call('HGET', key(9, i), ARGV[8])
    if pref ~= 'silent' and pref ~= 'off' and push_owed(ARGV[10], false, key(10, i)) ~= '' then push[#push + 1] = ARGV[i] end
  end
end
redis.call('EXPIRE', KEYS[2], ttl)
if #fresh == 0 then return {false, 0, unpack(push)} end
local c, cs = next_cursor(KEYS[1])
local frame = message_frame(cs, ARGV[2])
local exp_score = expiry_score(exp, ARGV[6], ttl)
local per_stream = {}
local order = {}
for _, i in ipairs(fresh) do
  if not silent[i] and push_owed(ARGV[10], #routes[i] > 0, key(10, i)) ~= '' then
    push[#push + 1] = ARGV[i]
  end
  inbox_write(key(1, i), key(2, i), key(3, i), key(4, i), key(5, i), key(6, i), key(7, i), ARGV[1], cs, c, false, tonumber(ARGV[3]), ttl * 1000000, ttl, exp_score)
  for _, st in ipairs(silent[i] and {} or routes[i]) do
    if not per_stream[st] then
      per_stream[st] = {}
      order[#order + 1] = st
    end
    local l = per_stream[st]
    l[#l + 1] = ARGV[i]
  end
end
store_announcement(KEYS[g + 4], KEYS[g + 5], ARGV[1], ARGV[2], ttl, exp_score)
redis.call('HSETNX', KEYS[3], 'userId', '*')
redis.call('HSETNX', KEYS[3], 'source', ARGV[7])
redis.call('HSETNX', KEYS[3], 'createdAt', ARGV[6])
if exp ~= '' then redis.call('HSETNX', KEYS[3], 'expiresAt', exp) end
redis.call('EXPIRE', KEYS[3], ttl)
for _, st in ipairs(order) do
  add_message_entry(st, ARGV[5], table.concat(per_stream[st], ','), cs, ARGV[9], exp_score, frame)
end
return {cs, #fresh, unpack(push)}
`,
} as const
