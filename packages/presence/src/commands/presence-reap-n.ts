/** Removes a batch of a replica's connections in one partition; the last batch removes its keys and stream. */
export const presenceReap = {
  name: 'heraldPresenceReap',
  lua: `--[[
  Input (the key count first):
    KEYS[1] the replica's connections hash in the partition   KEYS[2] the replica's users hash in the partition
    KEYS[3] the partition's online-users counter               KEYS[4] the replica's stream in the partition
    then per connection i (1-based): KEYS[3+2i] the user's presence hash, KEYS[4+2i] the user's routes hash
    ARGV[1] replica   then per connection i: ARGV[2i] connId, ARGV[2i+1] userId
  Output: {removed, left} — connections removed by this batch, connections the replica still has here.
  Only connections still listed for the replica are removed, so a batch retried or raced by a
  disconnect counts nothing twice. Bounded batches keep each step short, however many sockets.
]]
local removed = 0
for i = 1, (#ARGV - 1) / 2 do
  local conn, user = ARGV[2 * i], ARGV[2 * i + 1]
  if redis.call('HDEL', KEYS[1], conn) == 1 then
    removed = removed + 1
    local pkey, rkey = KEYS[3 + 2 * i], KEYS[4 + 2 * i]
    if redis.call('HINCRBY', KEYS[2], user, -1) <= 0 then redis.call('HDEL', KEYS[2], user) end
    if redis.call('HINCRBY', rkey, ARGV[1], -1) <= 0 then redis.call('HDEL', rkey, ARGV[1]) end
    if redis.call('HDEL', pkey, conn) == 1 and redis.call('HLEN', pkey) == 0 then
      if redis.call('DECR', KEYS[3]) < 0 then redis.call('SET', KEYS[3], 0) end
    end
  end
end
local left = redis.call('HLEN', KEYS[1])
if left == 0 then redis.call('DEL', KEYS[1], KEYS[2], KEYS[4]) end
return {removed, left}
`,
} as const
