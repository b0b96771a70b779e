/** Enables a caller's endpoint again (after its receiver was fixed): the failure streak starts over. */
export const webhookEnable = {
  name: 'heraldWebhookEnable',
  numberOfKeys: 1,
  lua: `--[[
  Input:
    KEYS[1] the endpoint's hash
    ARGV[1] the calling system that must own it
  Output: 1 enabled (or already enabled), 0 no such endpoint of this caller.
]]
if redis.call('HGET', KEYS[1], 'caller') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'status', 'enabled', 'failures', 0)
redis.call('HDEL', KEYS[1], 'disabledAt')
return 1
`,
} as const
