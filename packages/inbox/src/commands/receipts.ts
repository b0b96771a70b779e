/*
 * mark-read: marks the user's messages read, records readAt, and tells the user's other
 * sockets (a read-sync entry on the delivery stream) — one atomic step.
 * Input:  KEYS[1] unread   KEYS[2] delivery stream   KEYS[3..] the messages' receipt hashes (same order as ids)
 *         ARGV[1] now (ms)   ARGV[2] stream max length   ARGV[3] user id   ARGV[4] origin connId ('' for none)
 *         ARGV[5..] message ids
 * Output: the ids that were unread until now.
 */
export const MARK_READ = `
local newly = {}
for i = 5, #ARGV do
  if redis.call('ZREM', KEYS[1], ARGV[i]) == 1 then
    newly[#newly + 1] = ARGV[i]
    redis.call('HSETNX', KEYS[i - 2], 'readAt', ARGV[1])
  end
end
if #newly > 0 then
  local frame = '{"type":"read","ids":["' .. table.concat(newly, '","') .. '"]}'
  if ARGV[4] ~= '' then
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'k', 'r', 'u', ARGV[3], 'o', ARGV[4], 'p', frame)
  else
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'k', 'r', 'u', ARGV[3], 'p', frame)
  end
end
return newly
`

/*
 * record-acks: delivery receipts from a device, for messages that are in the user's inbox.
 * Input:  KEYS[1] inbox   then per id i: KEYS[2i] receipt hash, KEYS[2i+1] devices set
 *         ARGV[1] now (ms)   ARGV[2] device id   ARGV[3] ttl (s)   ARGV[4..] message ids
 * Output: the number of ids recorded.
 */
export const RECORD_ACKS = `
local n = 0
for i = 4, #ARGV do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    local j = (i - 3) * 2
    redis.call('HSETNX', KEYS[j], 'deliveredAt', ARGV[1])
    redis.call('SADD', KEYS[j + 1], ARGV[2])
    redis.call('EXPIRE', KEYS[j + 1], tonumber(ARGV[3]))
    n = n + 1
  end
end
return n
`
