/** Removes a batch of a replica's connections in one partition; the last batch removes its keys and stream. */
export const presenceReap = {
  name: 'heraldPresenceReap',
  lua: `--[[
  Input (the key count first):
    KEYS[1] the replica's connections hash in the partition   KEYS[2] the replica's users hash in the partition
    KEYS[3] the partition's online-users counter               KEYS[4] the replica's stream in the partition
    KEYS[5] the partition's webhook outbox stream   KEYS[6] the partition's replicas holding a connection (set)
    then per connection i (1-based): KEYS[4+3i] the user's presence hash, KEYS[5+3i] the user's routes hash,
    KEYS[6+3i] when the user last went offline (string, TTL)
    ARGV[1] replica   ARGV[2] settle window (ms)   ARGV[3] outbox max length
    then per connection i: ARGV[2i+2] connId, ARGV[2i+3] userId
  Output: {removed, left} — connections removed by this batch, connections the replica still has here.
  A user left with no connection is noted 'off' on the webhook outbox, as a disconnect is.
  Only connections still listed for the replica are removed, so a batch retried or raced by a
  disconnect counts nothing twice. Bounded batches keep each step short, however many sockets.
]]
local removed = 0
local now = nil
for i = 1, (#ARGV - 3) / 2 do
  local conn, user = ARGV[2 * i + 2], ARGV[2 * i + 3]
  if redis.call('HDEL', KEYS[1], conn) == 1 then
    removed = removed + 1
    local pkey, rkey = KEYS[4 + 3 * i], KEYS[5 + 3 * i]
    if redis.call('HINCRBY', KEYS[2], user, -1) <= 0 then redis.call('HDEL', KEYS[2], user) end
    if redis.call('HINCRBY', rkey, ARGV[1], -1) <= 0 then redis.call('HDEL', rkey, ARGV[1]) end
    if redis.call('HDEL', pkey, conn) == 1 and redis.call('HLEN', pkey) == 0 then
      if redis.call('DECR', KEYS[3]) < 0 then redis.call('SET', KEYS[3], 0) end
      if not now then
        local t = redis.call('TIME')
        now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
      end
      redis.call('SET', KEYS[6 + 3 * i], now, 'PX', 2 * tonumber(ARGV[2]))
      redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[3], '*', 'e', 'off', 'u', user, 't', now, 'w', ARGV[2])
    end
  end
end
local left = redis.call('HLEN', KEYS[1])
if left == 0 then
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[4])
  redis.call('SREM', KEYS[6], ARGV[1])
end
return {removed, left}
`,
} as const
