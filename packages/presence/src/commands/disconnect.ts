/*
 * Input:  KEYS[1] the user's presence hash    KEYS[2] the replica's connections hash
 *         KEYS[3] the replica's users hash     KEYS[4] the online-users counter
 *         ARGV[1] connId  ARGV[2] userId
 * Output: 1 removed, 0 unknown (already removed, e.g. by a reap): nothing is counted twice.
 */
export const DISCONNECT = `
if redis.call('HDEL', KEYS[2], ARGV[1]) == 0 then return 0 end
if redis.call('HINCRBY', KEYS[3], ARGV[2], -1) <= 0 then redis.call('HDEL', KEYS[3], ARGV[2]) end
if redis.call('HDEL', KEYS[1], ARGV[1]) == 1 and redis.call('HLEN', KEYS[1]) == 0 then
  if redis.call('DECR', KEYS[4]) < 0 then redis.call('SET', KEYS[4], 0) end
end
return 1
`
