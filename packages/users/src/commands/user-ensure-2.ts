/** Creates the user record when it is missing (idempotent: the second step of a first login, retried safely). */
export const userEnsure = {
  name: 'heraldUserEnsure',
  numberOfKeys: 2,
  lua: `--[[
  Input:
    KEYS[1] the user hash   KEYS[2] the partition's users set
    ARGV[1] user id   ARGV[2] phone (E.164)   ARGV[3] default nickname   ARGV[4] createdAt (epoch ms)
  Output: {created (0|1), the user hash as a flat list}
]]
local created = 0
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'id', ARGV[1], 'phone', ARGV[2], 'nickname', ARGV[3], 'createdAt', ARGV[4])
  created = 1
end
redis.call('SADD', KEYS[2], ARGV[1])
return {created, redis.call('HGETALL', KEYS[1])}
`,
} as const
