import { OUTBOX_LIB } from './webhook-outbox'

/** Delivery receipts from a device, for messages that are in the user's inbox. */
export const recordAcks = {
  name: 'heraldAcks',
  lua: `${OUTBOX_LIB}
--[[
  Input (the key count first):
    KEYS[1] inbox   then per id i (1-based): KEYS[2i] receipt hash, KEYS[2i+1] devices set
    KEYS[#KEYS] the partition's webhook outbox stream
    ARGV[1] now (ms)   ARGV[2] device id   ARGV[3] ttl (s)   ARGV[4] outbox max length   ARGV[5..] message ids
  Output: the number of ids recorded. A message's first ack is noted on the webhook outbox.
]]
local n = 0
local outbox = KEYS[#KEYS]
for i = 5, #ARGV do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    local j = (i - 4) * 2
    if redis.call('HSETNX', KEYS[j], 'deliveredAt', ARGV[1]) == 1 then
      outbox_note(outbox, ARGV[4], 'd', KEYS[j], ARGV[i], ARGV[1])
    end
    redis.call('SADD', KEYS[j + 1], ARGV[2])
    redis.call('EXPIRE', KEYS[j + 1], tonumber(ARGV[3]))
    n = n + 1
  end
end
return n
`,
} as const
