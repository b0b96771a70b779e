/** Removes one connection; nothing is counted twice if a reap got there first. */
export const presenceDisconnect = {
  name: 'heraldPresenceDisconnect',
  numberOfKeys: 8,
  lua: `--[[
  Input:
    KEYS[1] the user's presence hash   KEYS[2] the user's routes hash
    KEYS[3] the replica's connections hash in the partition   KEYS[4] the replica's users hash in the partition
    KEYS[5] the partition's online-users counter
    KEYS[6] when the user last went offline (string, TTL)  KEYS[7] the partition's webhook outbox stream
    KEYS[8] the partition's replicas holding a connection (set)
    ARGV[1] connId   ARGV[2] userId   ARGV[3] replica   ARGV[4] settle window (ms)   ARGV[5] outbox max length
  Output: 1 removed, 0 unknown (already removed). The user's last connection closing is noted on
  the webhook outbox as 'off' with the settle window (announced only if no reconnect follows within it),
  and its time kept for twice the window.
]]
if redis.call('HDEL', KEYS[3], ARGV[1]) == 0 then return 0 end
if redis.call('HLEN', KEYS[3]) == 0 then redis.call('SREM', KEYS[8], ARGV[3]) end
if redis.call('HINCRBY', KEYS[4], ARGV[2], -1) <= 0 then redis.call('HDEL', KEYS[4], ARGV[2]) end
if redis.call('HINCRBY', KEYS[2], ARGV[3], -1) <= 0 then redis.call('HDEL', KEYS[2], ARGV[3]) end
if redis.call('HDEL', KEYS[1], ARGV[1]) == 1 and redis.call('HLEN', KEYS[1]) == 0 then
  if redis.call('DECR', KEYS[5]) < 0 then redis.call('SET', KEYS[5], 0) end
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('SET', KEYS[6], now, 'PX', 2 * tonumber(ARGV[4]))
  redis.call('XADD', KEYS[7], 'MAXLEN', '~', ARGV[5], '*', 'e', 'off', 'u', ARGV[2], 't', now, 'w', ARGV[4])
end
return 1
`,
} as const
