/** Removes one of a caller's endpoints with its delivery log. */
export const webhookDelete = {
  name: 'heraldWebhookDelete',
  numberOfKeys: 4,
  lua: `--[[
  Input:
    KEYS[1] the caller's endpoint set   KEYS[2] the endpoint's hash   KEYS[3] its delivery log
    KEYS[4] the set of every endpoint
    ARGV[1] endpoint id
  Output: 1 removed, 0 the caller has no such endpoint.
]]
if redis.call('SREM', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('DEL', KEYS[2], KEYS[3])
redis.call('SREM', KEYS[4], ARGV[1])
return 1
`,
} as const
