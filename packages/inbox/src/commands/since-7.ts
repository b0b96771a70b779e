import { INBOX_LIB } from './lib'

/** The user's messages after a cursor, up to another, oldest first: the replay on reconnect. */
export const since = {
  name: 'heraldSince',
  numberOfKeys: 7,
  lua: `${INBOX_LIB}
--[[
  Input:
    KEYS[1] inbox   KEYS[2] inbox messages   KEYS[3] inbox meta
    KEYS[4] unread   KEYS[5] seen   KEYS[6] archived   KEYS[7] expiring
    ARGV[1] since (exclusive)   ARGV[2] limit   ARGV[3] up to (inclusive; '+inf' for no bound)
  Output: {trimmed, frame1, frame2, …} — trimmed: highest cursor removed by a bound ('0' if none).
  One script, so no trim can fall between reading ids and reading their frames. Messages past
  their expiry are removed first: they are not replayed.
]]
purge_expired(KEYS[1], KEYS[2], KEYS[4], KEYS[5], KEYS[6], KEYS[7])
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], ARGV[3], 'LIMIT', 0, tonumber(ARGV[2]))
local out = { redis.call('HGET', KEYS[3], 'trimmed') or '0' }
if #ids > 0 then
  local frames = redis.call('HMGET', KEYS[2], unpack(ids))
  for i = 1, #frames do
    if frames[i] then out[#out + 1] = frames[i] end
  end
end
return out
`,
} as const
