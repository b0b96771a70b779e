/**
 * Copies users' preferences into their partition's copy (Preferences: what a message to everyone
 * reads to leave them out of its live frame), for users whose choices were set before the copy
 * existed. A user's copy already there is the newer one (written with the hash by every change
 * since): it is kept.
 */
export const preferencesCopy = {
  name: 'heraldPreferencesCopy',
  numberOfKeys: 1,
  lua: `--[[
  Input:
    KEYS[1] the partition's copy of its users' preferences
    ARGV[1], ARGV[2] what surrounds the user id in a user's preferences key (before, after)
    ARGV[3..] user ids of the partition
  Output: how many users' choices were copied.
]]
local n = 0
for i = 3, #ARGV do
  local uid = ARGV[i]
  if redis.call('HEXISTS', KEYS[1], uid) == 0 then
    local flat = redis.call('HGETALL', ARGV[1] .. uid .. ARGV[2])
    local kept = {}
    local any = false
    for j = 1, #flat, 2 do
      if flat[j + 1] == 'off' or flat[j + 1] == 'silent' then
        kept[flat[j]] = flat[j + 1]
        any = true
      end
    end
    if any then
      redis.call('HSET', KEYS[1], uid, cjson.encode(kept))
      n = n + 1
    end
  end
end
return n
`,
} as const
