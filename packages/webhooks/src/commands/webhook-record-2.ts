/** Logs one delivery attempt, keeps the failure streak, and disables the endpoint after too many failures. */
export const webhookRecord = {
  name: 'heraldWebhookRecord',
  numberOfKeys: 2,
  lua: `--[[
  Input:
    KEYS[1] the endpoint's hash   KEYS[2] its delivery log (list, newest first)
    ARGV[1] the attempt as JSON   ARGV[2] '1' when it succeeded   ARGV[3] log length bound
    ARGV[4] failures in a row that disable the endpoint   ARGV[5] now (ms)
  Output: -1 the endpoint is gone (nothing written), 1 success logged, 0 failure logged,
  2 failure logged and the endpoint disabled by it.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
redis.call('LPUSH', KEYS[2], ARGV[1])
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[3]) - 1)
if ARGV[2] == '1' then
  redis.call('HSET', KEYS[1], 'failures', 0)
  return 1
end
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
if failures >= tonumber(ARGV[4]) and redis.call('HGET', KEYS[1], 'status') == 'enabled' then
  redis.call('HSET', KEYS[1], 'status', 'disabled', 'disabledAt', ARGV[5])
  return 2
end
return 0
`,
} as const
