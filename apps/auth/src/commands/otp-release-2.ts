/** Undoes a reservation whose SMS could not be sent, so the user may retry at once. */
export const otpRelease = {
  name: 'heraldOtpRelease',
  numberOfKeys: 2,
  lua: `--[[
  Input:
    KEYS[1] resend cooldown
    KEYS[2] codes sent today to this phone for this requesting address
    ARGV[1] reservation id
  Output: 1 when the reservation was still held and is released, else 0
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
if tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then redis.call('DECR', KEYS[2]) end
return 1
`,
} as const
