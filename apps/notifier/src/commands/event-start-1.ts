/**
 * Counts an attempt as started (retries and stalled-job restarts alike); creates the record
 * for jobs enqueued by other services (auth's account.login) that never went through
 * POST /v1/events.
 */
export const eventStart = {
  name: 'heraldEventStart',
  numberOfKeys: 1,
  lua: `--[[
  Input:
    KEYS[1] the event record
    ARGV[1] TTL (s)   ARGV[2] type   ARGV[3] source   ARGV[4] acceptedAt
  Output: the record after the update, without its payload (field, value pairs); a final one
  (done, canceled, expired) unchanged.
]]
redis.call('HSETNX', KEYS[1], 'type', ARGV[2])
redis.call('HSETNX', KEYS[1], 'source', ARGV[3])
redis.call('HSETNX', KEYS[1], 'acceptedAt', ARGV[4])
-- done, canceled and expired are final: the worker sees them and writes nothing
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'done' and status ~= 'canceled' and status ~= 'expired' then
  redis.call('HSET', KEYS[1], 'status', 'processing')
  redis.call('HINCRBY', KEYS[1], 'attempts', 1)
end
if redis.call('TTL', KEYS[1]) < tonumber(ARGV[1]) then redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1])) end
-- what the worker reads (not the payload it already holds), as field, value pairs
local fields = { 'type', 'source', 'acceptedAt', 'status', 'attempts', 'messageIds' }
local values = redis.call('HMGET', KEYS[1], unpack(fields))
local out = {}
for i = 1, #fields do
  if values[i] then
    out[#out + 1] = fields[i]
    out[#out + 1] = values[i]
  end
end
return out
`,
} as const
