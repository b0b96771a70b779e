import { INBOX_LIB } from './lib'

/** A page of the inbox, newest first, before a cursor, filtered by state and kind. */
export const page = {
  name: 'heraldPage',
  numberOfKeys: 12,
  lua: `${INBOX_LIB}
--[[
  Input:
    KEYS[1] inbox   KEYS[2] inbox messages   KEYS[3] unread   KEYS[4] seen   KEYS[5] archived   KEYS[6] expiring
    KEYS[7] the partition's announcement frames   KEYS[8] inbox meta
    KEYS[9..12] what absorb reads: the partition's announcement log and attrs, the user's record and preferences
    ARGV[1] before (exclusive; '+inf' for the newest)   ARGV[2] limit
    ARGV[3] state: '' (every message not archived) | 'unread' | 'read' (both not archived) | 'archived'
    ARGV[4] kind as the frame spells it, ',"kind":"<kind>",' ('' for every kind)
    ARGV[5] inbox max items   ARGV[6] retention (s)
  Output: {unread count (not archived), more (0|1), frame1, flags1, frame2, flags2, …};
  flags: 1 unread, 2 seen, 4 archived.
  Walks the set the state names (unread, archived, or the inbox) from before, in batches, until
  limit + 1 messages match: at most the inbox's count bound of members per call. The messages to
  everyone the user is owed are taken in first, then messages past their expiry are removed.
]]
absorb_before_read(9, 5, KEYS[1], KEYS[2], KEYS[3], KEYS[8], KEYS[4], KEYS[5], KEYS[6])
purge_expired(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6])
local src = KEYS[1]
if ARGV[3] == 'unread' then src = KEYS[3] elseif ARGV[3] == 'archived' then src = KEYS[5] end
local max = ARGV[1] == '+inf' and '+inf' or ('(' .. ARGV[1])
local limit = tonumber(ARGV[2])
local kind = ARGV[4]
-- an unfiltered page reads limit + 1 ids as before (archived ones are skipped, and read again
-- only if the batch ran short); a kind filter is likely to skip many, so it reads wider batches
local batch = limit + 1
if kind ~= '' then batch = math.max(batch, 100) end
local out = { 0, 0 }
local found = 0
local offset = 0
while found <= limit do
  local flat = redis.call('ZREVRANGEBYSCORE', src, max, '-inf', 'WITHSCORES', 'LIMIT', offset, batch)
  if #flat == 0 then break end
  local ids, scores = {}, {}
  for i = 1, #flat, 2 do
    ids[#ids + 1] = flat[i]
    scores[#scores + 1] = flat[i + 1]
  end
  offset = offset + #ids
  local frames = frames_of(KEYS[2], KEYS[7], ids, scores)
  for i = 1, #ids do
    local f = frames[i]
    if f and found <= limit then
      local flags = 0
      if redis.call('ZSCORE', KEYS[3], ids[i]) then flags = 1 end
      if flags == 0 or redis.call('ZSCORE', KEYS[4], ids[i]) then flags = flags + 2 end
      if redis.call('ZSCORE', KEYS[5], ids[i]) then flags = flags + 4 end
      local ok = true
      if ARGV[3] == 'archived' then ok = flags >= 4
      elseif flags >= 4 then ok = false
      elseif ARGV[3] == 'read' then ok = flags % 2 == 0 end
      if ok and kind ~= '' then
        local at = string.find(f, ',"kind":', 1, true)
        ok = at ~= nil and string.sub(f, at, at + #kind - 1) == kind
      end
      if ok then
        found = found + 1
        if found <= limit then
          out[#out + 1] = f
          out[#out + 1] = flags
        end
      end
    end
  end
  if #ids < batch then break end
end
if found > limit then out[2] = 1 end
local unread = redis.call('ZCARD', KEYS[3])
if unread > 0 and redis.call('EXISTS', KEYS[5]) == 1 then unread = unread - redis.call('ZINTERCARD', 2, KEYS[3], KEYS[5]) end
out[1] = unread
return out
`,
} as const
