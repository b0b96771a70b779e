/** Registers a connection and returns the cursor it starts from: one step, in the user's partition. */
export const presenceConnect = {
  name: 'heraldPresenceConnect',
  numberOfKeys: 9,
  lua: `--[[
  Input:
    KEYS[1] the user's presence hash (connId -> JSON)    KEYS[2] the user's routes hash (replica -> count)
    KEYS[3] the replica's connections hash in the partition (connId -> userId)
    KEYS[4] the replica's users hash in the partition (userId -> count)
    KEYS[5] the partition's online-users counter         KEYS[6] the partition's cursor
    KEYS[7] when the user last went offline (string, TTL)  KEYS[8] the partition's webhook outbox stream
    KEYS[9] the partition's replicas holding a connection (set)
    ARGV[1] connId   ARGV[2] userId   ARGV[3] connection JSON {replica, device, sessionId, connectedAt}
    ARGV[4] replica  ARGV[5] per-user cap (0: none)
    ARGV[6] settle window (ms)   ARGV[7] outbox max length
    ARGV[8..] replicas known to be dead (their leftovers do not count against the cap)
  Output: {1, cursor} registered (or already registered); {0, ''} refused: the user has cap live connections.
  A user's first connection is noted on the webhook outbox as 'on', unless the user went offline
  less than the settle window ago (a reconnect: the pending 'off' is dropped too).
  Every message written to the user after this step is appended to this replica's stream (the
  deliver scripts read the routes hash in the same slot), and every message to everyone after
  it to this replica's stream of the partition (the announce script reads KEYS[9]); every
  message before it has a cursor at most the one returned, and is in the inbox or owed to it
  by the partition's announcements.
]]
local cursor = redis.call('GET', KEYS[6]) or '0'
if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 1 then return {1, cursor} end
local cap = tonumber(ARGV[5])
if cap > 0 then
  local dead = {}
  for i = 8, #ARGV do dead[ARGV[i]] = true end
  local flat = redis.call('HGETALL', KEYS[2])
  local live = 0
  for i = 1, #flat, 2 do
    if not dead[flat[i]] then live = live + tonumber(flat[i + 1]) end
  end
  if live >= cap then return {0, ''} end
end
local before = redis.call('HLEN', KEYS[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HINCRBY', KEYS[2], ARGV[4], 1)
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
redis.call('HINCRBY', KEYS[4], ARGV[2], 1)
redis.call('SADD', KEYS[9], ARGV[4])
if before == 0 then
  redis.call('INCR', KEYS[5])
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local off = tonumber(redis.call('GET', KEYS[7]) or '0')
  redis.call('DEL', KEYS[7])
  if now - off >= tonumber(ARGV[6]) then
    redis.call('XADD', KEYS[8], 'MAXLEN', '~', ARGV[7], '*', 'e', 'on', 'u', ARGV[2], 't', now)
  end
end
return {1, cursor}
`,
} as const
