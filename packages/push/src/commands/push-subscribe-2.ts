/** Adds or refreshes one Web Push subscription unless the user already has the most allowed: one atomic step. */
export const pushSubscribe = {
  name: 'heraldPushSubscribe',
  numberOfKeys: 2,
  lua: `--[[
  Input:
    KEYS[1] the user's subscriptions hash   KEYS[2] the partition's users with a subscription (set)
    ARGV[1] most subscriptions per user   ARGV[2] subscription id   ARGV[3] subscription JSON   ARGV[4] user id
  Output: 1 added, 2 replaced (same endpoint, new keys), 0 the user already has ARGV[1] others.
]]
if redis.call('HEXISTS', KEYS[1], ARGV[2]) == 1 then
  redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
  return 2
end
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('SADD', KEYS[2], ARGV[4])
return 1
`,
} as const
