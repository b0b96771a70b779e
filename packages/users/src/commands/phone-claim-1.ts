/** The user id of a phone, claimed for a new id when the phone has none: one user per phone, however many race. */
export const phoneClaim = {
  name: 'heraldPhoneClaim',
  numberOfKeys: 1,
  lua: `--[[
  Input:  KEYS[1] the phone's user id (string, in the phone's slot)   ARGV[1] a new user id
  Output: {claimed (0|1), the phone's user id}
]]
local id = redis.call('GET', KEYS[1])
if id then return {0, id} end
redis.call('SET', KEYS[1], ARGV[1])
return {1, ARGV[1]}
`,
} as const
