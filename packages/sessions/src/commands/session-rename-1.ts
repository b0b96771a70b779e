/** Copies a new nickname into a session that still exists (never resurrects one without a TTL). */
export const sessionRename = {
  name: 'heraldSessionRename',
  numberOfKeys: 1,
  lua: `--[[
  Input:  KEYS[1] session hash   ARGV[1] nickname
  Output: 1 renamed, 0 gone.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'nickname', ARGV[1])
return 1
`,
} as const
