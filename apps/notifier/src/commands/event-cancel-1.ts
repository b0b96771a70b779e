/**
 * Cancels an event that has not started: of a cancel and the worker's start, whichever runs
 * first wins (the start leaves a canceled record alone, and a started one is not canceled).
 */
export const eventCancel = {
  name: 'heraldEventCancel',
  numberOfKeys: 1,
  lua: `--[[
  Input:
    KEYS[1] the event record
    ARGV[1] now (ms)
  Output: the status after the call ('canceled' when canceled now or before); false when there is no record.
]]
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return false end
if status == 'queued' or status == 'delayed' then
  redis.call('HSET', KEYS[1], 'status', 'canceled', 'canceledAt', ARGV[1])
  return 'canceled'
end
return status
`,
} as const
