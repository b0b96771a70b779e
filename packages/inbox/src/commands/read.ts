/*
 * since: the user's messages after a cursor, oldest first, for replay.
 * Input:  KEYS[1] inbox   KEYS[2] inbox messages   KEYS[3] inbox meta
 *         ARGV[1] since (exclusive)   ARGV[2] limit
 * Output: {trimmed, frame1, frame2, …} — trimmed: highest cursor removed by a bound ('0' if none).
 * One script, so no trim can fall between reading ids and reading their frames.
 */
export const SINCE = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf', 'LIMIT', 0, tonumber(ARGV[2]))
local out = { redis.call('HGET', KEYS[3], 'trimmed') or '0' }
if #ids > 0 then
  local frames = redis.call('HMGET', KEYS[2], unpack(ids))
  for i = 1, #frames do
    if frames[i] then out[#out + 1] = frames[i] end
  end
end
return out
`

/*
 * page: a page of the inbox, newest first, before a cursor.
 * Input:  KEYS[1] inbox   KEYS[2] inbox messages   KEYS[3] unread
 *         ARGV[1] before (exclusive; '+inf' for the newest)   ARGV[2] limit
 * Output: {unread count, more (0|1), frame1, unread1 (0|1), frame2, unread2, …}
 */
export const PAGE = `
local max = ARGV[1] == '+inf' and '+inf' or ('(' .. ARGV[1])
local ids = redis.call('ZREVRANGEBYSCORE', KEYS[1], max, '-inf', 'LIMIT', 0, tonumber(ARGV[2]) + 1)
local more = 0
if #ids > tonumber(ARGV[2]) then
  more = 1
  table.remove(ids)
end
local out = { redis.call('ZCARD', KEYS[3]), more }
if #ids > 0 then
  local frames = redis.call('HMGET', KEYS[2], unpack(ids))
  for i = 1, #ids do
    if frames[i] then
      out[#out + 1] = frames[i]
      out[#out + 1] = redis.call('ZSCORE', KEYS[3], ids[i]) and 1 or 0
    end
  end
end
return out
`
