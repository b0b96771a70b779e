import { INBOX_LIB } from './lib'

/** The user's messages after a cursor, up to another, oldest first: the replay on reconnect. */
export const since = {
  name: 'heraldSince',
  numberOfKeys: 13,
  lua: `${INBOX_LIB}
--[[
  Input:
    KEYS[1] inbox   KEYS[2] inbox messages   KEYS[3] inbox meta
    KEYS[4] unread   KEYS[5] seen   KEYS[6] archived   KEYS[7] expiring   KEYS[8] the user's change log
    KEYS[9] the partition's announcement frames
    KEYS[10..13] what absorb reads: the partition's announcement log and attrs, the user's record and preferences
    ARGV[1] since (exclusive)   ARGV[2] limit   ARGV[3] up to (inclusive; '+inf' for no bound)
    ARGV[4] inbox max items   ARGV[5] retention (s)
  Output: {trimmed, changesTrimmed, last, frame1, frame2, …} — trimmed: highest message cursor
  removed by a bound ('0' if none); changesTrimmed: highest change cursor dropped by the change
  log's bound; last: the cursor of the last item returned ('' for none). The items are the
  messages and the changes (read, state and retract frames) in (since, up to], merged in cursor
  order, at most limit of them. One script, so no trim can fall between reading ids and reading
  their frames. The messages to everyone the user is owed are taken in first, then messages
  past their expiry are removed: they are not replayed.
]]
absorb_before_read(10, 4, KEYS[1], KEYS[2], KEYS[4], KEYS[3], KEYS[5], KEYS[6], KEYS[7])
purge_expired(KEYS[1], KEYS[2], KEYS[4], KEYS[5], KEYS[6], KEYS[7])
local limit = tonumber(ARGV[2])
local lo = '(' .. ARGV[1]
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], lo, ARGV[3], 'WITHSCORES', 'LIMIT', 0, limit)
local changes = redis.call('ZRANGEBYSCORE', KEYS[8], lo, ARGV[3], 'WITHSCORES', 'LIMIT', 0, limit)
local meta = redis.call('HMGET', KEYS[3], 'trimmed', 'changesTrimmed')
local out = { meta[1] or '0', meta[2] or '0', '' }
local frames = {}
if #ids > 0 then
  local wanted, scores = {}, {}
  for i = 1, #ids, 2 do
    wanted[#wanted + 1] = ids[i]
    scores[#scores + 1] = ids[i + 1]
  end
  frames = frames_of(KEYS[2], KEYS[9], wanted, scores)
end
-- merge by cursor (scores are unique: one cursor sequence per partition)
local i, j, taken = 1, 1, 0
while taken < limit and (i <= #ids or j <= #changes) do
  local take_message = j > #changes or (i <= #ids and tonumber(ids[i + 1]) < tonumber(changes[j + 1]))
  if take_message then
    local f = frames[(i + 1) / 2]
    if f then out[#out + 1] = f end
    out[3] = ids[i + 1]
    i = i + 2
  else
    out[#out + 1] = changes[j]
    out[3] = changes[j + 1]
    j = j + 2
  end
  taken = taken + 1
end
return out
`,
} as const
