/** Validates a session and slides its expiry in one step, so a session can never outlive its cap. */
export const sessionTouch = {
  name: 'heraldSessionTouch',
  numberOfKeys: 1,
  lua: `--[[
  Input:
    KEYS[1] session hash
    ARGV[1] now (ms)   ARGV[2] idle TTL (ms)
  Output: the session's fields as a flat list, or nil when missing or past its absolute cap.
]]
local exp = redis.call('HGET', KEYS[1], 'expiresAt')
if not exp then return nil end
local now = tonumber(ARGV[1])
local remaining = tonumber(exp) - now
if remaining <= 0 then
  redis.call('DEL', KEYS[1])
  return nil
end
redis.call('HSET', KEYS[1], 'lastSeenAt', ARGV[1])
redis.call('PEXPIRE', KEYS[1], math.min(tonumber(ARGV[2]), remaining))
return redis.call('HGETALL', KEYS[1])
`,
} as const
