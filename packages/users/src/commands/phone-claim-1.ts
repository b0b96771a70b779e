/**
 * Lua that claims a phone's user id: the phone → user id index is the users store's, and a
 * script of another owner that must claim in the same step (auth's code check, in the phone's
 * slot) prepends this instead of writing the key itself.
 */
export const PHONE_CLAIM_LIB = `
-- The user id of the phone (key: its index entry, in the phone's slot), set to new_id when it has
-- none: one user per phone, however many race. Returns claimed (0|1), the id.
local function claim_phone(key, new_id)
  local id = redis.call('GET', key)
  if id then return 0, id end
  redis.call('SET', key, new_id)
  return 1, new_id
end
`

/** The user id of a phone, claimed for a new id when the phone has none: one user per phone, however many race. */
export const phoneClaim = {
  name: 'heraldPhoneClaim',
  numberOfKeys: 1,
  lua: `${PHONE_CLAIM_LIB}
--[[
  Input:  KEYS[1] the phone's user id (string, in the phone's slot)   ARGV[1] a new user id
  Output: {claimed (0|1), the phone's user id}
]]
local claimed, id = claim_phone(KEYS[1], ARGV[1])
return {claimed, id}
`,
} as const
