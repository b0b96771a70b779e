/**
 * Sets fields of an event record, drops others and renews its TTL, as one command: unlike a
 * MULTI, it travels in the same write as the other commands of its event-loop turn.
 */
export const eventSet = {
  name: 'heraldEventSet',
  numberOfKeys: 1,
  lua: `--[[
  Input:
    KEYS[1] the event record
    ARGV[1] TTL (s)   ARGV[2] D, the number of fields to delete   ARGV[3..D+2] those fields
    ARGV[D+3..] field, value, field, value… to set
  Output: 1
]]
local d = tonumber(ARGV[2])
if d > 0 then redis.call('HDEL', KEYS[1], unpack(ARGV, 3, d + 2)) end
if #ARGV > d + 2 then redis.call('HSET', KEYS[1], unpack(ARGV, d + 3)) end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
return 1
`,
} as const
