/** Sets a user's nickname, never creating a user that does not exist. */
export const userRename = {
  name: 'heraldUserRename',
  numberOfKeys: 1,
  lua: `--[[
  Input:  KEYS[1] the user hash, ARGV[1] the new nickname
  Output: the user hash as a flat list, or an empty list when there is no such user
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
redis.call('HSET', KEYS[1], 'nickname', ARGV[1])
return redis.call('HGETALL', KEYS[1])
`,
} as const
