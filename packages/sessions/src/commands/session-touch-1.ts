/**
 * Lua that validates a session and slides its expiry, shared by the touch by token hash and the
 * touch by (user, session id): a session can never outlive its cap.
 */
const SESSION_TOUCH_LIB = `
-- The session's fields as a flat list after sliding its expiry, or nil when it is missing or
-- past its absolute cap (then it is deleted). now: ms, as the caller wrote it.
local function touch(key, now, idle_ms)
  local exp = redis.call('HGET', key, 'expiresAt')
  if not exp then return nil end
  local remaining = tonumber(exp) - tonumber(now)
  if remaining <= 0 then
    redis.call('DEL', key)
    return nil
  end
  redis.call('HSET', key, 'lastSeenAt', now)
  redis.call('PEXPIRE', key, math.min(idle_ms, remaining))
  return redis.call('HGETALL', key)
end
`

/** Validates a session and slides its expiry in one step, so a session can never outlive its cap. */
export const sessionTouch = {
  name: 'heraldSessionTouch',
  numberOfKeys: 1,
  lua: `${SESSION_TOUCH_LIB}
--[[
  Input:
    KEYS[1] session hash
    ARGV[1] now (ms)   ARGV[2] idle TTL (ms)
  Output: the session's fields as a flat list, or nil when missing or past its absolute cap.
]]
return touch(KEYS[1], ARGV[1], tonumber(ARGV[2]))
`,
} as const

/**
 * The same for one of a user's sessions named by its id (a WebSocket ticket names the user and
 * the session): the index lookup and the touch in one step. The session hash is in the user's
 * slot (a token is drawn so its hash falls in the user's partition); the script builds its key
 * from the hash the index holds and what surrounds it (Keys.aroundUser).
 */
export const sessionTouchById = {
  name: 'heraldSessionTouchById',
  numberOfKeys: 1,
  lua: `${SESSION_TOUCH_LIB}
--[[
  Input:
    KEYS[1] the user's sessions index (session id → token hash)
    ARGV[1] session id   ARGV[2] now (ms)   ARGV[3] idle TTL (ms)
    ARGV[4], ARGV[5] what comes before and after the token hash in a session key of the user's partition
  Output: {token hash, the session's fields…} after sliding its expiry, or nil when the index
  does not name it, or it is missing or past its absolute cap.
]]
local hash = redis.call('HGET', KEYS[1], ARGV[1])
if not hash then return nil end
local flat = touch(ARGV[4] .. hash .. ARGV[5], ARGV[2], tonumber(ARGV[3]))
if not flat then return nil end
return {hash, unpack(flat)}
`,
} as const
