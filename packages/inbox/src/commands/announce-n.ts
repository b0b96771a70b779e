import { ROUTE_LIB } from '@herald/presence'
import { INBOX_LIB } from './lib'

/**
 * A message to everyone, in one partition: written once for the partition (fan-out on read: each
 * inbox takes it in the next time one of its scripts reads it), with one entry on the stream of
 * every replica holding a socket of the partition. The gateway sends that entry to all its
 * sockets of the partition but those of the users it lists: the ones who turned the kind off or
 * silent. Nothing is written per user.
 */
export const announce = {
  name: 'heraldAnnounce',
  lua: `${INBOX_LIB}${ROUTE_LIB}
--[[
  Input (the key count first):
    KEYS[1] the partition's cursor   KEYS[2] message receipt hash
    KEYS[3] announcement frames   KEYS[4] their keep-until set   KEYS[5] announcement log   KEYS[6] announcement attrs
    KEYS[7] the partition's replicas holding a connection   KEYS[8] the partition's users' preferences
    KEYS[9..G+8] the streams of the partition's known gateway replicas
    KEYS[G+9..2G+8] the same replicas' users hashes in the partition (user id → connections)
    ARGV[1] message id   ARGV[2] frame tail   ARGV[3] retention (s)   ARGV[4] stream max length
    ARGV[5] created at (ms)   ARGV[6] source   ARGV[7] the kind whose preference applies ('' for a kind nobody may mute)
    ARGV[8] expires at (ms), '' for never
    ARGV[9] G   ARGV[10..G+9] the replicas' names   ARGV[G+10] S   ARGV[G+11..G+S+10] replicas to skip
  Output: its cursor (the one of the first call, on a retry: nothing is written or sent again);
  false once the message was taken back (its receipt has retractedAt or canceledAt) or past its
  expiry; {'!STALE', replica…} when a replica holds a socket of the partition and is not in the
  call (nothing written).
]]
local g = tonumber(ARGV[9])
local s = tonumber(ARGV[g + 10])
local by_name = known_streams(9, 10, g)
local skip = set_of(g + 11, g + s + 10)
local holders = redis.call('SMEMBERS', KEYS[7])
local missing = nil
for _, r in ipairs(holders) do
  if not by_name[r] and not skip[r] then
    missing = missing or {}
    missing[#missing + 1] = r
  end
end
if missing then return {'!STALE', unpack(missing)} end
local id = ARGV[1]
local ttl = tonumber(ARGV[3])
local exp = ARGV[8]
local taken_back = redis.call('HMGET', KEYS[2], 'retractedAt', 'canceledAt')
if taken_back[1] or taken_back[2] then return false end
local before = redis.call('ZSCORE', KEYS[5], id)
if before then return before end
if exp ~= '' and now_ms() >= tonumber(exp) then
  redis.call('HSETNX', KEYS[2], 'userId', '*')
  redis.call('HSETNX', KEYS[2], 'source', ARGV[6])
  redis.call('HSET', KEYS[2], 'expiresAt', exp, 'expired', '1')
  redis.call('EXPIRE', KEYS[2], ttl)
  return false
end
local c, cs = next_cursor(KEYS[1])
local exp_score = expiry_score(exp, ARGV[5], ttl)
store_announcement(KEYS[3], KEYS[4], KEYS[5], KEYS[6], id, ARGV[2], cs, ARGV[7], ttl, exp_score)
redis.call('HSETNX', KEYS[2], 'userId', '*')
redis.call('HSETNX', KEYS[2], 'source', ARGV[6])
redis.call('HSETNX', KEYS[2], 'createdAt', ARGV[5])
if exp ~= '' then redis.call('HSETNX', KEYS[2], 'expiresAt', exp) end
redis.call('EXPIRE', KEYS[2], ttl)

-- the users of a replica who turned the kind off or silent: from whichever is smaller, the
-- replica's users there or the partition's users with preferences
local kind = ARGV[7]
local with_prefs = kind ~= '' and redis.call('HLEN', KEYS[8]) or 0
local function muted(json)
  local v = json and cjson.decode(json)[kind]
  return v == 'off' or v == 'silent'
end
local function left_out(users)
  local out = {}
  if with_prefs == 0 then return out end
  if redis.call('HLEN', users) <= with_prefs then
    for _, u in ipairs(redis.call('HKEYS', users)) do
      if muted(redis.call('HGET', KEYS[8], u)) then out[#out + 1] = u end
    end
  else
    local flat = redis.call('HGETALL', KEYS[8])
    for i = 1, #flat, 2 do
      if muted(flat[i + 1]) and redis.call('HEXISTS', users, flat[i]) == 1 then out[#out + 1] = flat[i] end
    end
  end
  return out
end

local frame = message_frame(cs, ARGV[2])
local index = {}
for i = 0, g - 1 do index[ARGV[10 + i]] = i end
for _, r in ipairs(holders) do
  local i = index[r]
  if i then
    local entry = {'k', 'a', 'c', cs}
    if exp_score ~= '' then
      entry[#entry + 1] = 'x'
      entry[#entry + 1] = exp_score
    end
    local out = left_out(KEYS[g + 9 + i])
    if #out > 0 then
      entry[#entry + 1] = 'u'
      entry[#entry + 1] = table.concat(out, ',')
    end
    entry[#entry + 1] = 'p'
    entry[#entry + 1] = frame
    redis.call('XADD', KEYS[9 + i], 'MAXLEN', '~', ARGV[4], '*', unpack(entry))
  end
end
return cs
`,
} as const
