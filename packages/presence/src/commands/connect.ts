/*
 * Input:  KEYS[1] the user's presence hash    KEYS[2] the replica's connections hash
 *         KEYS[3] the replica's users hash     KEYS[4] the online-users counter
 *         KEYS[5] the replicas sorted set
 *         ARGV[1] connId  ARGV[2] userId  ARGV[3] connection JSON {replica, device, sessionId, connectedAt}
 *         ARGV[4] per-user cap (0: none)  ARGV[5] now (epoch ms)
 * Output: 1 registered (or already registered), 0 refused: the user already has `cap` live connections.
 * The cap counts only connections on live replicas, so a dead replica's leftovers never lock a user out;
 * the common path (under the cap) never decodes anything.
 */
export const CONNECT = `
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return 1 end
local cap = tonumber(ARGV[4])
local before = redis.call('HLEN', KEYS[1])
if cap > 0 and before >= cap then
  local now = tonumber(ARGV[5])
  local alive = {}
  local live = 0
  for _, v in ipairs(redis.call('HVALS', KEYS[1])) do
    local ok, c = pcall(cjson.decode, v)
    local r = ok and c.replica or ''
    if alive[r] == nil then
      local d = redis.call('ZSCORE', KEYS[5], r)
      alive[r] = (d and tonumber(d) >= now) or false
    end
    if alive[r] then live = live + 1 end
  end
  if live >= cap then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('HINCRBY', KEYS[3], ARGV[2], 1)
if before == 0 then redis.call('INCR', KEYS[4]) end
return 1
`
