/**
 * Adds to the partition's subscribers the users of a page who hold a subscription: for
 * subscriptions made before the set existed (an upgrade). Safe beside changes: a user is added
 * only while the subscriptions hash exists, in the same step.
 */
export const pushIndex = {
  name: 'heraldPushIndex',
  numberOfKeys: 1,
  lua: `--[[
  Input:
    KEYS[1] the partition's users with a subscription (set)
    ARGV[1], ARGV[2] what surrounds the user id in a user's subscriptions key (before, after)
    ARGV[3..] user ids of the partition
  Output: how many users were added.
]]
local n = 0
for i = 3, #ARGV do
  if redis.call('EXISTS', ARGV[1] .. ARGV[i] .. ARGV[2]) == 1 then n = n + redis.call('SADD', KEYS[1], ARGV[i]) end
end
return n
`,
} as const
