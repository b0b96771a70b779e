/** Registers an endpoint unless its caller has reached the bound: one atomic step. */
export const webhookCreate = {
  name: 'heraldWebhookCreate',
  numberOfKeys: 3,
  lua: `--[[
  Input:
    KEYS[1] the caller's endpoint set   KEYS[2] the new endpoint's hash   KEYS[3] the set of every endpoint
    ARGV[1] most endpoints per caller   ARGV[2] endpoint id   ARGV[3..] the hash's field/value pairs
  Output: 1 registered, 0 the caller already has ARGV[1] endpoints.
]]
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[2], unpack(ARGV, 3))
redis.call('SADD', KEYS[1], ARGV[2])
redis.call('SADD', KEYS[3], ARGV[2])
return 1
`,
} as const
