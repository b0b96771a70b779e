import { INBOX_LIB } from './lib'
import { OUTBOX_LIB } from './webhook-outbox'

/** The most members one SADD of a script takes (Lua's unpack has a stack limit near 8000). */
const SADD_MAX = 1000

/**
 * Delivery receipts, for messages that are in the acking user's inbox — or, for a message to
 * everyone, owed to the user (not taken in yet: fan-out on read): any number of acks of
 * one partition's users (a gateway sends those of a short window together), one atomic step.
 * The acks come grouped by message, so a message to everyone acked by hundreds of sockets names
 * its receipt, devices set and id once, sets its receipt once and adds its devices in one SADD.
 */
export const recordAcks = {
  name: 'heraldAcks',
  lua: `${INBOX_LIB}${OUTBOX_LIB}
--[[
  Input (the key count first):
    KEYS[1] the partition's webhook outbox stream
    then per message: its receipt hash, its devices set; for a message to everyone also the
    partition's announcement log and attrs
    ARGV[1] ttl (s)   ARGV[2] outbox max length
    ARGV[3..8] what surrounds the user id in each user key (before, after; in this order: inbox,
    user record, preferences)
    then per message: its id, the number of its acks n, 1 for a message to everyone (else 0),
    then n triples (user id, arrival time in ms, device), earliest first
  Output: the number of acks recorded (those of messages in the user's inbox, or owed to the
  user). A message's first ack (the earliest of the call that counts) is noted on the webhook
  outbox.
]]
local n = 0
local ttl = tonumber(ARGV[1])
local function key(k, uid) return user_key(3, k, uid) end
local k = 2
local a = 9
while a <= #ARGV do
  local id = ARGV[a]
  local count = tonumber(ARGV[a + 1])
  local receipt = KEYS[k]
  local devices = KEYS[k + 1]
  k = k + 2
  -- a message to everyone: its cursor and attrs, for the users who have not taken it in yet
  local ann, attrs = nil, nil
  if ARGV[a + 2] == '1' then
    ann = redis.call('ZSCORE', KEYS[k], id)
    local json = ann and redis.call('HGET', KEYS[k + 1], id)
    attrs = json and cjson.decode(json)
    k = k + 2
  end
  local now = attrs and now_ms()
  local function owed(uid)
    if redis.call('ZSCORE', key(1, uid), id) then return true end
    if not attrs then return false end
    local created = redis.call('HGET', key(2, uid), 'createdAt')
    return created ~= false and announcement_owed(attrs, ann, created, key(3, uid), now, false)
  end
  a = a + 3
  local added = {}
  for i = 0, count - 1 do
    local t = a + 3 * i
    if owed(ARGV[t]) then
      if #added == 0 and redis.call('HSETNX', receipt, 'deliveredAt', ARGV[t + 1]) == 1 then
        outbox_note(KEYS[1], ARGV[2], 'd', receipt, id, ARGV[t + 1])
      end
      added[#added + 1] = ARGV[t + 2]
      if #added % ${SADD_MAX} == 0 then redis.call('SADD', devices, unpack(added, #added - ${SADD_MAX - 1}, #added)) end
    end
  end
  local rest = #added % ${SADD_MAX}
  if rest > 0 then redis.call('SADD', devices, unpack(added, #added - rest + 1, #added)) end
  if #added > 0 then redis.call('EXPIRE', devices, ttl) end
  n = n + #added
  a = a + 3 * count
end
return n
`,
} as const
