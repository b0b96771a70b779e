/** Gives back a reserved SMS whose code was never sent (the provider failed, or the phone was refused). */
export const smsRefund = {
  name: 'heraldSmsRefund',
  numberOfKeys: 1,
  lua: `--[[
  Input:
    KEYS[1] the day's spend (hash: country -> codes sent, '*' -> all countries)
    ARGV[1] country
  Output: 1
]]
if tonumber(redis.call('HGET', KEYS[1], '*') or '0') > 0 then redis.call('HINCRBY', KEYS[1], '*', -1) end
if tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0') > 0 then redis.call('HINCRBY', KEYS[1], ARGV[1], -1) end
return 1
`,
} as const
