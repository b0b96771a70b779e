/**
 * Lua shared by the inbox's write scripts (prepended to each): allocation of the
 * partition's cursor and the bounded write of one message into one user's inbox.
 *
 * Cursors are microseconds of Redis' clock, made unique and only-growing per partition by
 * the cursor key (so per user): they sort by time, fit a double exactly, and the age bound
 * is a score range.
 */
export const INBOX_LIB = `
local function next_cursor(cursor_key)
  local t = redis.call('TIME')
  local c = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local last = tonumber(redis.call('GET', cursor_key) or '0')
  if c <= last then c = last + 1 end
  local cs = string.format('%.0f', c)
  redis.call('SET', cursor_key, cs)
  return c, cs
end

-- inbox, messages, unread, meta, seen, archived: the user's inbox keys. A new message is unseen,
-- unread and not archived with no write but the unread entry; seen and archived are touched
-- only when a bound drops a message (they expire on their own, set by the state script).
local function inbox_write(inbox, messages, unread, meta, seen, archived, id, cs, c, frame, max_items, retention_us, ttl_s)
  redis.call('ZADD', inbox, cs, id)
  redis.call('HSET', messages, id, frame)
  redis.call('ZADD', unread, cs, id)
  local trimmed = nil
  local n = redis.call('ZCARD', inbox)
  if n > max_items then
    local old = redis.call('ZRANGE', inbox, 0, n - max_items - 1, 'WITHSCORES')
    for i = 1, #old, 2 do
      redis.call('HDEL', messages, old[i])
      redis.call('ZREM', unread, old[i])
      redis.call('ZREM', seen, old[i])
      redis.call('ZREM', archived, old[i])
      redis.call('ZREM', inbox, old[i])
      trimmed = old[i + 1]
    end
  end
  local cutoff = string.format('%.0f', c - retention_us)
  local expired = redis.call('ZRANGEBYSCORE', inbox, '-inf', cutoff, 'WITHSCORES')
  for i = 1, #expired, 2 do
    redis.call('HDEL', messages, expired[i])
    trimmed = expired[i + 1]
  end
  if #expired > 0 then
    redis.call('ZREMRANGEBYSCORE', inbox, '-inf', cutoff)
    redis.call('ZREMRANGEBYSCORE', unread, '-inf', cutoff)
    redis.call('ZREMRANGEBYSCORE', seen, '-inf', cutoff)
    redis.call('ZREMRANGEBYSCORE', archived, '-inf', cutoff)
  end
  if trimmed then
    local prev = tonumber(redis.call('HGET', meta, 'trimmed') or '0')
    if tonumber(trimmed) > prev then redis.call('HSET', meta, 'trimmed', trimmed) end
  end
  redis.call('EXPIRE', inbox, ttl_s)
  redis.call('EXPIRE', messages, ttl_s)
  redis.call('EXPIRE', unread, ttl_s)
  redis.call('EXPIRE', meta, ttl_s)
end

local function set_of(first, last)
  local s = {}
  for i = first, last do s[ARGV[i]] = true end
  return s
end
`
