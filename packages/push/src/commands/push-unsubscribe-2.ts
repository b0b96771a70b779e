/** Removes one Web Push subscription; the user's last one takes the user out of the partition's subscribers. */
export const pushUnsubscribe = {
  name: 'heraldPushUnsubscribe',
  numberOfKeys: 2,
  lua: `--[[
  Input:
    KEYS[1] the user's subscriptions hash   KEYS[2] the partition's users with a subscription (set)
    ARGV[1] subscription id   ARGV[2] user id
  Output: 1 removed, 0 there was none.
]]
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[2]) end
return 1
`,
} as const
