/** Removes one connection; nothing is counted twice if a reap got there first. */
export const presenceDisconnect = {
  name: 'heraldPresenceDisconnect',
  numberOfKeys: 5,
  lua: `--[[
  Input:
    KEYS[1] the user's presence hash   KEYS[2] the user's routes hash
    KEYS[3] the replica's connections hash in the partition   KEYS[4] the replica's users hash in the partition
    KEYS[5] the partition's online-users counter
    ARGV[1] connId   ARGV[2] userId   ARGV[3] replica
  Output: 1 removed, 0 unknown (already removed).
]]
if redis.call('HDEL', KEYS[3], ARGV[1]) == 0 then return 0 end
if redis.call('HINCRBY', KEYS[4], ARGV[2], -1) <= 0 then redis.call('HDEL', KEYS[4], ARGV[2]) end
if redis.call('HINCRBY', KEYS[2], ARGV[3], -1) <= 0 then redis.call('HDEL', KEYS[2], ARGV[3]) end
if redis.call('HDEL', KEYS[1], ARGV[1]) == 1 and redis.call('HLEN', KEYS[1]) == 0 then
  if redis.call('DECR', KEYS[5]) < 0 then redis.call('SET', KEYS[5], 0) end
end
return 1
`,
} as const
