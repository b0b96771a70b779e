import { OUTBOX_LIB } from './webhook-outbox'

/**
 * Delivery receipts, for messages that are in the acking user's inbox: any number of acks of
 * one partition's users (a gateway sends those of a short window together), one atomic step.
 */
export const recordAcks = {
  name: 'heraldAcks',
  lua: `${OUTBOX_LIB}
--[[
  Input (the key count first):
    KEYS[1] the partition's webhook outbox stream
    then per ack i (0-based): KEYS[2+3i] the acking user's inbox, KEYS[3+3i] the message's receipt
    hash, KEYS[4+3i] its devices set
    ARGV[1] ttl (s)   ARGV[2] outbox max length
    then per ack i: ARGV[3+3i] when it arrived (ms), ARGV[4+3i] the device, ARGV[5+3i] the message id
  Output: the number of acks recorded (those of messages in the user's inbox). A message's
  first ack is noted on the webhook outbox.
]]
local n = 0
local ttl = tonumber(ARGV[1])
-- many acks of one message (a message to everyone): its receipt and devices set once each
local delivered = {}
local devices = {}
for i = 0, (#KEYS - 1) / 3 - 1 do
  local k = 2 + 3 * i
  local a = 3 + 3 * i
  local id = ARGV[a + 2]
  if redis.call('ZSCORE', KEYS[k], id) then
    if not delivered[KEYS[k + 1]] then
      delivered[KEYS[k + 1]] = true
      if redis.call('HSETNX', KEYS[k + 1], 'deliveredAt', ARGV[a]) == 1 then
        outbox_note(KEYS[1], ARGV[2], 'd', KEYS[k + 1], id, ARGV[a])
      end
    end
    redis.call('SADD', KEYS[k + 2], ARGV[a + 1])
    devices[KEYS[k + 2]] = true
    n = n + 1
  end
end
for key in pairs(devices) do redis.call('EXPIRE', key, ttl) end
return n
`,
} as const
