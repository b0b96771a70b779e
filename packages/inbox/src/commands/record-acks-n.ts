import { OUTBOX_LIB } from './webhook-outbox'

/** The most members one SADD of a script takes (Lua's unpack has a stack limit near 8000). */
const SADD_MAX = 1000

/**
 * Delivery receipts, for messages that are in the acking user's inbox: any number of acks of
 * one partition's users (a gateway sends those of a short window together), one atomic step.
 * The acks come grouped by message, so a message to everyone acked by hundreds of sockets names
 * its receipt, devices set and id once, sets its receipt once and adds its devices in one SADD.
 */
export const recordAcks = {
  name: 'heraldAcks',
  lua: `${OUTBOX_LIB}
--[[
  Input (the key count first):
    KEYS[1] the partition's webhook outbox stream
    then per message: its receipt hash, its devices set, then the inbox of each acking user
    ARGV[1] ttl (s)   ARGV[2] outbox max length
    then per message: its id, the number of its acks n, then n pairs (arrival time in ms, device),
    in the order of the inboxes, earliest first
  Output: the number of acks recorded (those of messages in the user's inbox). A message's
  first ack (the earliest of the call that counts) is noted on the webhook outbox.
]]
local n = 0
local ttl = tonumber(ARGV[1])
local k = 2
local a = 3
while a <= #ARGV do
  local id = ARGV[a]
  local count = tonumber(ARGV[a + 1])
  local receipt = KEYS[k]
  local devices = KEYS[k + 1]
  k = k + 2
  a = a + 2
  local added = {}
  for i = 0, count - 1 do
    if redis.call('ZSCORE', KEYS[k + i], id) then
      local at = ARGV[a + 2 * i]
      if #added == 0 and redis.call('HSETNX', receipt, 'deliveredAt', at) == 1 then
        outbox_note(KEYS[1], ARGV[2], 'd', receipt, id, at)
      end
      added[#added + 1] = ARGV[a + 2 * i + 1]
      if #added % ${SADD_MAX} == 0 then redis.call('SADD', devices, unpack(added, #added - ${SADD_MAX - 1}, #added)) end
    end
  end
  local rest = #added % ${SADD_MAX}
  if rest > 0 then redis.call('SADD', devices, unpack(added, #added - rest + 1, #added)) end
  if #added > 0 then redis.call('EXPIRE', devices, ttl) end
  n = n + #added
  k = k + count
  a = a + 2 * count
end
return n
`,
} as const
