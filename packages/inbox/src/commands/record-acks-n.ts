/** Delivery receipts from a device, for messages that are in the user's inbox. */
export const recordAcks = {
  name: 'heraldAcks',
  lua: `--[[
  Input (the key count first):
    KEYS[1] inbox   then per id i (1-based): KEYS[2i] receipt hash, KEYS[2i+1] devices set
    ARGV[1] now (ms)   ARGV[2] device id   ARGV[3] ttl (s)   ARGV[4..] message ids
  Output: the number of ids recorded.
]]
local n = 0
for i = 4, #ARGV do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    local j = (i - 3) * 2
    redis.call('HSETNX', KEYS[j], 'deliveredAt', ARGV[1])
    redis.call('SADD', KEYS[j + 1], ARGV[2])
    redis.call('EXPIRE', KEYS[j + 1], tonumber(ARGV[3]))
    n = n + 1
  end
end
return n
`,
} as const
