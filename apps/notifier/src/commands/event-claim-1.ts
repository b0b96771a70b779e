/** Claims an event id: of any number of concurrent POSTs with one id, exactly one wins. */
export const eventClaim = {
  name: 'heraldEventClaim',
  numberOfKeys: 1,
  lua: `--[[
  Input:
    KEYS[1] the event record
    ARGV[1] TTL (s)   ARGV[2..] field/value pairs
  Output: nil when this call created the record (it won), else the record (flat HGETALL).
]]
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('HGETALL', KEYS[1]) end
local fields = {}
for i = 2, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
return nil
`,
} as const
