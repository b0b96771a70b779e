/*
 * Input:  KEYS[1] the replicas sorted set  KEYS[2] the replica's connections hash
 *         KEYS[3] the replica's users hash  KEYS[4] the online-users counter
 *         ARGV[1] replica  ARGV[2] presence key prefix (presence key = prefix .. userId)
 *         ARGV[3] now (epoch ms)  ARGV[4] '1': reap even if the replica looks alive (its own shutdown or restart)
 * Output: the number of connections removed, or -1 when the replica's heartbeat came back in the meantime.
 * Removes every trace of a replica at once: its connections from each user's presence hash, its own
 * keys and its heartbeat. The users' presence keys are derived from the replica's index, never scanned.
 */
export const REAP = `
if ARGV[4] ~= '1' then
  local d = redis.call('ZSCORE', KEYS[1], ARGV[1])
  if d and tonumber(d) >= tonumber(ARGV[3]) then return -1 end
end
local conns = redis.call('HGETALL', KEYS[2])
local n = 0
for i = 1, #conns, 2 do
  local pkey = ARGV[2] .. conns[i + 1]
  if redis.call('HDEL', pkey, conns[i]) == 1 then
    n = n + 1
    if redis.call('HLEN', pkey) == 0 then
      if redis.call('DECR', KEYS[4]) < 0 then redis.call('SET', KEYS[4], 0) end
    end
  end
end
redis.call('DEL', KEYS[2], KEYS[3])
redis.call('ZREM', KEYS[1], ARGV[1])
return n
`
