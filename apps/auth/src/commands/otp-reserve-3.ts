/** Reserves the right to send a code: every anti-abuse check and the cooldown in one step. */
export const otpReserve = {
  name: 'heraldOtpReserve',
  numberOfKeys: 3,
  lua: `--[[
  Input:
    KEYS[1] resend cooldown (string, TTL)
    KEYS[2] codes sent today to this phone for this requesting address (counter)
    KEYS[3] failed checks this hour (counter)
    ARGV[1] reservation id (the cooldown's value, so only its owner releases it)
    ARGV[2] cooldown (ms)
    ARGV[3] daily limit
    ARGV[4] TTL of the daily counter (ms)
    ARGV[5] failed checks allowed per hour
  Output:
    {0, 0}     reserved: cooldown set, daily counter incremented
    {1, pttl}  the cooldown is running
    {2, 0}     the daily budget is spent
    {3, pttl}  too many failed checks this hour
]]
local cd = redis.call('PTTL', KEYS[1])
if cd ~= -2 then return {1, cd} end
local fails = tonumber(redis.call('GET', KEYS[3]) or '0')
if fails >= tonumber(ARGV[5]) then return {3, redis.call('PTTL', KEYS[3])} end
local sent = tonumber(redis.call('GET', KEYS[2]) or '0')
if sent >= tonumber(ARGV[3]) then return {2, 0} end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if redis.call('INCR', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[4]) end
return {0, 0}
`,
} as const
