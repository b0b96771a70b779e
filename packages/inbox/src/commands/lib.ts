/**
 * Lua shared by the inbox's scripts (prepended to each): allocation of the partition's cursor,
 * the bounded write of one message into one user's inbox, and the removal of the user's
 * messages past their expiry.
 *
 * Cursors are microseconds of Redis' clock, made unique and only-growing per partition by
 * the cursor key (so per user): they sort by time, fit a double exactly, and the age bound
 * is a score range.
 */
export const INBOX_LIB = `
-- Redis' clock in ms
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function next_cursor(cursor_key)
  local t = redis.call('TIME')
  local c = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local last = tonumber(redis.call('GET', cursor_key) or '0')
  if c <= last then c = last + 1 end
  local cs = string.format('%.0f', c)
  redis.call('SET', cursor_key, cs)
  return c, cs
end

-- A user's inbox, unread set and meta live the retention past the newest write into them. Each is
-- given the retention plus a margin (at most an hour, an eighth of a short retention), so a write
-- that finds its time to live still above the retention (set within the margin) sets none: a read
-- (PTTL) instead of a write (EXPIRE) that the append-only file and the replicas would carry, for a
-- user who gets messages often. Every setting of these keys adds the margin, so none shortens
-- what another set.
local function keep_user_key(key, ttl_s)
  local left = redis.call('PTTL', key)
  -- -2: no such key (nothing to keep)
  if left == -2 or left > ttl_s * 1000 then return end
  redis.call('EXPIRE', key, ttl_s + math.min(3600, math.floor(ttl_s / 8)))
end

-- inbox, messages, unread, meta, seen, archived, expiring: the user's inbox keys. A new message is
-- unseen, unread and not archived with no write but the unread entry; seen and archived are
-- touched only when a bound drops a message (they expire on their own, set by the state script).
-- frame: the message's frame, or false for a message to everyone (its frame is the partition's:
-- store_announcement). exp_ms: the message's expiry (ms), or '' — only then is the expiring set written.
local function inbox_write(inbox, messages, unread, meta, seen, archived, expiring, id, cs, c, frame, max_items, retention_us, ttl_s, exp_ms)
  redis.call('ZADD', inbox, cs, id)
  if frame then redis.call('HSET', messages, id, frame) end
  redis.call('ZADD', unread, cs, id)
  if exp_ms ~= '' then
    redis.call('ZADD', expiring, exp_ms, id)
    redis.call('EXPIRE', expiring, ttl_s)
  end
  local trimmed = nil
  local n = redis.call('ZCARD', inbox)
  if n > max_items then
    local old = redis.call('ZRANGE', inbox, 0, n - max_items - 1, 'WITHSCORES')
    for i = 1, #old, 2 do
      redis.call('HDEL', messages, old[i])
      redis.call('ZREM', unread, old[i])
      redis.call('ZREM', seen, old[i])
      redis.call('ZREM', archived, old[i])
      redis.call('ZREM', expiring, old[i])
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
  keep_user_key(inbox, ttl_s)
  -- the messages hash lives as long as the newest frame it holds (an announcement adds none): kept
  -- on its own time to live, by each frame, as a write that found the others kept may be the
  -- first frame in a while
  if frame then keep_user_key(messages, ttl_s) end
  keep_user_key(unread, ttl_s)
  keep_user_key(meta, ttl_s)
end

-- The Web Push a written, not silent message owes (mode: '' off, 'o' offline only, 'u' also if
-- it stays unacked): '+p' now (no live socket), '+u' if it stays unacked (mode 'u', a live
-- socket), '' none — one EXISTS on the user's subscriptions, only when one may be owed.
local function push_owed(mode, live, subscriptions)
  if mode == '' or (live and mode ~= 'u') then return '' end
  if redis.call('EXISTS', subscriptions) == 0 then return '' end
  return live and '+u' or '+p'
end

-- A message's expiry (ms) as the expiring set and the gateway entries carry it: capped at its
-- creation plus the retention, so what the age bound drops has left the set too; '' for none.
local function expiry_score(exp, created_ms, ttl_s)
  if exp == '' then return '' end
  return string.format('%.0f', math.min(tonumber(exp), tonumber(created_ms) + ttl_s * 1000))
end

-- Appends a message's entry to a gateway stream: 'd' (devices) and 'x' (expiry) only when set.
local function add_message_entry(stream, maxlen, users, cs, devices, exp_score, frame)
  local entry = {'k', 'm', 'u', users, 'c', cs}
  if devices ~= '' then
    entry[#entry + 1] = 'd'
    entry[#entry + 1] = devices
  end
  if exp_score ~= '' then
    entry[#entry + 1] = 'x'
    entry[#entry + 1] = exp_score
  end
  entry[#entry + 1] = 'p'
  entry[#entry + 1] = frame
  redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*', unpack(entry))
end

-- A message frame as every inbox and stream entry holds it: its cursor, then the rest (the tail).
local function message_frame(cs, tail)
  return '{"type":"message","cursor":"' .. cs .. '",' .. tail
end

-- The most announcement frames one write prunes (the next write prunes the rest).
local PRUNE_MAX = 100

-- Keeps a message to everyone once for the partition, for as long as an inbox may take it in or
-- name it: until its write plus the retention, or its expiry (keep_until, a sorted set): its frame
-- tail (frames, a hash), its cursor (log, a sorted set: what inboxes take in after their
-- watermark) and what an inbox checks as it takes it in (attrs, a hash: announcement_attrs).
-- Prunes the announcements past theirs.
local function store_announcement(frames, keep_until, log, attrs, id, tail, cs, kind, ttl_s, exp_score)
  local now = now_ms()
  local keep = now + ttl_s * 1000
  if exp_score ~= '' then keep = math.min(keep, tonumber(exp_score)) end
  redis.call('HSET', frames, id, tail)
  redis.call('ZADD', keep_until, 'GT', string.format('%.0f', keep), id)
  redis.call('ZADD', log, cs, id)
  local a = { k = kind }
  if exp_score ~= '' then a.x = exp_score end
  redis.call('HSET', attrs, id, cjson.encode(a))
  local old = redis.call('ZRANGEBYSCORE', keep_until, '-inf', now, 'LIMIT', 0, PRUNE_MAX)
  if #old > 0 then
    redis.call('HDEL', frames, unpack(old))
    redis.call('ZREM', keep_until, unpack(old))
    redis.call('ZREM', log, unpack(old))
    redis.call('HDEL', attrs, unpack(old))
  end
  for _, k in ipairs({ frames, keep_until, log, attrs }) do redis.call('EXPIRE', k, ttl_s) end
end

-- Whether a message to everyone (its attrs a, decoded; its cursor c) is owed to a user: the user
-- existed before it (created_ms, the user record's createdAt) and had not turned its kind off.
-- taken_back: whether a taken-back one counts (the retraction asks; taking one in does not).
local function announcement_owed(a, c, created_ms, prefs, now, taken_back)
  if a.r and not taken_back then return false end
  if a.x and now >= tonumber(a.x) then return false end
  if tonumber(created_ms) * 1000 >= tonumber(c) then return false end
  return a.k == '' or redis.call('HGET', prefs, a.k) ~= 'off'
end

-- The messages to everyone a user's inbox has not taken in yet (after its watermark: meta's
-- 'absorbed', else the user's creation): flat {id, cursor, …}, the newest max of them, oldest
-- first; and the user's createdAt (false for no user record: nobody's announcements).
local function announcements_after(log, user, meta, max)
  local created = redis.call('HGET', user, 'createdAt')
  if not created then return {}, false end
  local from = tonumber(created) * 1000
  local wm = tonumber(redis.call('HGET', meta, 'absorbed') or '0')
  if wm > from then from = wm end
  local flat = redis.call('ZREVRANGEBYSCORE', log, '+inf', '(' .. string.format('%.0f', from), 'WITHSCORES', 'LIMIT', 0, max)
  local out = {}
  for i = #flat - 1, 1, -2 do
    out[#out + 1] = flat[i]
    out[#out + 1] = flat[i + 1]
  end
  return out, created
end

-- Takes the partition's messages to everyone owed to the user into the user's inbox (fan-out on
-- read: a message to everyone is written once per partition, and each inbox takes it in the next
-- time one of its scripts reads it), and moves the watermark past them. At most max_items (older
-- ones would be dropped by the count bound). Returns how many were taken in.
local function absorb(log, attrs, user, prefs, inbox, messages, unread, meta, seen, archived, expiring, max_items, retention_us, ttl_s)
  local flat, created = announcements_after(log, user, meta, max_items)
  if #flat == 0 then return 0 end
  local ids = {}
  for i = 1, #flat, 2 do ids[#ids + 1] = flat[i] end
  local as = redis.call('HMGET', attrs, unpack(ids))
  local now = now_ms()
  local n = 0
  for j = 1, #ids do
    local cs = flat[2 * j]
    local a = as[j] and cjson.decode(as[j])
    if a and announcement_owed(a, cs, created, prefs, now, false) then
      inbox_write(inbox, messages, unread, meta, seen, archived, expiring, ids[j], cs, tonumber(cs), false, max_items, retention_us, ttl_s, a.x or '')
      n = n + 1
    end
  end
  redis.call('HSET', meta, 'absorbed', flat[#flat])
  keep_user_key(meta, ttl_s)
  return n
end

-- A read script's first step: takes in the messages to everyone the user is owed (absorb), so
-- what the read returns includes every one sent before it, in the read's own call. The script
-- declares the four keys absorb reads from KEYS[at] (the partition's announcement log and attrs,
-- the user's record and preferences) and takes ARGV[arg] (inbox max items) and ARGV[arg + 1]
-- (retention, s).
local function absorb_before_read(at, arg, inbox, messages, unread, meta, seen, archived, expiring)
  local ttl = tonumber(ARGV[arg + 1])
  return absorb(KEYS[at], KEYS[at + 1], KEYS[at + 2], KEYS[at + 3], inbox, messages, unread, meta, seen, archived, expiring, tonumber(ARGV[arg]), ttl * 1000000, ttl)
end

-- The frames of a user's ids (scores: their cursors, same order): from the user's own hash
-- (messages), else rebuilt from the partition's announcement tail (frames); false where neither
-- has one (trimmed, expired or retracted meanwhile).
local function frames_of(messages, frames, ids, scores)
  local out = redis.call('HMGET', messages, unpack(ids))
  local missing = {}
  for i = 1, #ids do
    if not out[i] then missing[#missing + 1] = i end
  end
  if #missing == 0 then return out end
  local wanted = {}
  for j, i in ipairs(missing) do wanted[j] = ids[i] end
  local tails = redis.call('HMGET', frames, unpack(wanted))
  for j, i in ipairs(missing) do
    if tails[j] then out[i] = message_frame(scores[i], tails[j]) end
  end
  return out
end

-- The most expired messages one call removes (a later read removes the rest).
local PURGE_MAX = 1000

-- Removes the user's messages past their expiry from every set of the inbox; the count of them.
-- A message's expiry is at most its creation plus the retention, so what the age bound drops
-- has left this set by then too. Not a trim: the replay reports no gap for them.
local function purge_expired(inbox, messages, unread, seen, archived, expiring)
  local ids = redis.call('ZRANGEBYSCORE', expiring, '-inf', now_ms(), 'LIMIT', 0, PURGE_MAX)
  if #ids == 0 then return 0 end
  redis.call('ZREM', inbox, unpack(ids))
  redis.call('HDEL', messages, unpack(ids))
  redis.call('ZREM', unread, unpack(ids))
  redis.call('ZREM', seen, unpack(ids))
  redis.call('ZREM', archived, unpack(ids))
  redis.call('ZREM', expiring, unpack(ids))
  return #ids
end

-- The most changes a user's change log keeps.
local CHANGES_MAX = 500

-- Notes a change frame (read, state, retract) on the user's change log at cursor cs, so a
-- device that reconnects with an older cursor replays it. Changes older than the retention,
-- and beyond the count bound, are dropped; the highest cursor dropped by the count is kept in
-- meta ('changesTrimmed'): a device behind it is told of a gap.
local function log_change(changes, meta, cs, c, frame, retention_us, ttl_s)
  redis.call('ZADD', changes, cs, frame)
  if redis.call('ZCARD', changes) > CHANGES_MAX then
    local dropped = redis.call('ZPOPMIN', changes)
    redis.call('HSET', meta, 'changesTrimmed', dropped[2])
  end
  redis.call('ZREMRANGEBYSCORE', changes, '-inf', string.format('%.0f', c - retention_us))
  redis.call('EXPIRE', changes, ttl_s)
  keep_user_key(meta, ttl_s)
end

-- A user's key in a script over many users: the caller passes, from ARGV[at], what surrounds
-- the user id in each key of its list (Keys.aroundUser: before, after, …); this is the n-th.
-- Every one is in the partition's slot, which the script's declared keys route the call to.
local function user_key(at, n, uid)
  local j = at + 2 * (n - 1)
  return ARGV[j] .. uid .. ARGV[j + 1]
end

local function set_of(first, last)
  local s = {}
  for i = first, last do s[ARGV[i]] = true end
  return s
end
`
