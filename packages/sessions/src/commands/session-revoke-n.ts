/** Ends sessions of one user: each index entry goes with its session hash. */
export const sessionRevoke = {
  name: 'heraldSessionRevoke',
  lua: `--[[
  Input (the key count first):
    KEYS[1] the user's session index (session id -> token hash)
    KEYS[2..] the session hashes, in the order of the ids
    ARGV[1..n] the session ids   ARGV[n+1..2n] their token hashes (n = #KEYS - 1)
  Output: the ids removed (an id whose index entry no longer names that hash is left alone).
]]
local n = #KEYS - 1
local out = {}
for i = 1, n do
  local sid, hash = ARGV[i], ARGV[n + i]
  if redis.call('HGET', KEYS[1], sid) == hash then
    redis.call('HDEL', KEYS[1], sid)
    redis.call('DEL', KEYS[1 + i])
    out[#out + 1] = sid
  end
end
return out
`,
} as const
