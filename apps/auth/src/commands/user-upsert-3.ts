/** Finds the user of a phone or creates it: concurrent first logins for one phone make one user. */
export const userUpsert = {
  name: 'heraldUserUpsert',
  numberOfKeys: 3,
  lua: `--[[
  Input:
    KEYS[1] phone index (hash E.164 -> user id)
    KEYS[2] set of every user id
    KEYS[3] the user hash for the new id
    ARGV[1] phone (E.164)
    ARGV[2] new user id
    ARGV[3] user key prefix (the key of user X is prefix .. X)
    ARGV[4] default nickname
    ARGV[5] createdAt (epoch ms)
  Output: {created (0|1), the user hash as a flat list}
]]
local id = redis.call('HGET', KEYS[1], ARGV[1])
local created = 0
if not id then
  id = ARGV[2]
  redis.call('HSET', KEYS[1], ARGV[1], id)
  created = 1
end
local key = ARGV[3] .. id
if redis.call('EXISTS', key) == 0 then
  redis.call('HSET', key, 'id', id, 'phone', ARGV[1], 'nickname', ARGV[4], 'createdAt', ARGV[5])
  created = 1
end
redis.call('SADD', KEYS[2], id)
return {created, redis.call('HGETALL', key)}
`,
} as const
