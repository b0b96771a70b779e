/**
 * The receipt of a message scheduled for later (`deliverAt`), written when the request is
 * accepted: it names the user and the request before anything is in the inbox, so the message
 * can be looked up and canceled. The delivery adds its fields to the same hash.
 */
export const schedule = {
  name: 'heraldSchedule',
  numberOfKeys: 1,
  lua: `--[[
  Input:
    KEYS[1] message receipt hash
    ARGV[1] ttl (s)   ARGV[2] user id ('*' for everyone)   ARGV[3] source   ARGV[4] request id   ARGV[5] due at (ms)
  Output: 1 when written, 0 when the receipt existed (a retried request: left as it is).
]]
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'userId', ARGV[2], 'source', ARGV[3], 'requestId', ARGV[4], 'dueAt', ARGV[5])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
return 1
`,
} as const
