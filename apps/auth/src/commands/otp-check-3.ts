import { PHONE_CLAIM_LIB } from '@herald/users'

/**
 * Checks a code and burns it on success or on the last allowed wrong try: one winner per code.
 * A right code also claims the phone's user id (the users store's index, in the same slot), so
 * a sign-in learns its user in the round trip that checks the code.
 */
export const otpCheck = {
  name: 'heraldOtpCheck',
  numberOfKeys: 3,
  lua: `${PHONE_CLAIM_LIB}
--[[
  Input:
    KEYS[1] the code hash {h: HMAC of the code, n: wrong tries}
    KEYS[2] failed checks this hour (counter)
    KEYS[3] the phone's user id (the users store's index)
    ARGV[1] HMAC of the submitted code
    ARGV[2] wrong tries that burn the code
    ARGV[3] failed checks allowed per hour
    ARGV[4] failure window (ms)
    ARGV[5] the user id to claim for a phone that has none
  Output:
    {0, user id}  right code: burned, the phone's user id claimed; the caller may sign in
    {1, left}     wrong code, tries left
    {2, 0}        wrong code, and that was the last try: burned
    {3, 0}        no live code
    {4, pttl}     too many failed checks this hour: the code is burned
]]
local fails = tonumber(redis.call('GET', KEYS[2]) or '0')
if fails >= tonumber(ARGV[3]) then
  redis.call('DEL', KEYS[1])
  return {4, redis.call('PTTL', KEYS[2])}
end
local h = redis.call('HGET', KEYS[1], 'h')
if not h then return {3, 0} end
if h == ARGV[1] then
  redis.call('DEL', KEYS[1])
  local _, id = claim_phone(KEYS[3], ARGV[5])
  return {0, id}
end
if redis.call('INCR', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[4]) end
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
if n >= tonumber(ARGV[2]) then
  redis.call('DEL', KEYS[1])
  return {2, 0}
end
return {1, tonumber(ARGV[2]) - n}
`,
} as const
