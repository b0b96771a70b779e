/** Reserves one SMS against the day's spend ceiling: the global budget and the country's, in one step. */
export const smsSpend = {
  name: 'heraldSmsSpend',
  numberOfKeys: 1,
  lua: `--[[
  Input:
    KEYS[1] the day's spend (hash: country -> codes sent, '*' -> all countries)
    ARGV[1] country (ISO, or '??' for a non-geographic number)
    ARGV[2] codes allowed per day, all countries together
    ARGV[3] codes allowed per day to this country
    ARGV[4] TTL of the day's hash (ms)
  Output:
    {0}  reserved: both counters incremented
    {1}  the global budget is spent
    {2}  the country's budget is spent
]]
if tonumber(redis.call('HGET', KEYS[1], '*') or '0') >= tonumber(ARGV[2]) then return {1} end
if tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0') >= tonumber(ARGV[3]) then return {2} end
redis.call('HINCRBY', KEYS[1], '*', 1)
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
return {0}
`,
} as const
