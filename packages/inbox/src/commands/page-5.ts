/** A page of the inbox, newest first, before a cursor. */
export const page = {
  name: 'heraldPage',
  numberOfKeys: 3,
  lua: `--[[
  Input:
    KEYS[1] inbox   KEYS[2] inbox messages   KEYS[3] unread
    ARGV[1] before (exclusive; '+inf' for the newest)   ARGV[2] limit
  Output: {unread count, more (0|1), frame1, unread1 (0|1), frame2, unread2, …}
]]
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
`,
} as const
