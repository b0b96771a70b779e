import { ROUTE_LIB } from '@herald/presence'
import { INBOX_LIB } from './lib'
import { OUTBOX_LIB } from './webhook-outbox'

/** Marks messages read, records readAt, and tells the user's other sockets: one atomic step. */
export const markRead = {
  name: 'heraldMarkRead',
  lua: `${INBOX_LIB}${ROUTE_LIB}${OUTBOX_LIB}
--[[
  Input (the key count first):
    KEYS[1] unread   KEYS[2] seen   KEYS[3] the user's routes hash   KEYS[4..G+3] the partition's known gateway streams
    then per message i (1-based, same order as the ids): KEYS[G+3+i] its receipt hash
    KEYS[#KEYS-3] the partition's webhook outbox stream   KEYS[#KEYS-2] the partition's cursor
    KEYS[#KEYS-1] the user's change log   KEYS[#KEYS] inbox meta
    ARGV[1] now (ms)   ARGV[2] stream max length   ARGV[3] user id   ARGV[4] origin connId ('' for none)
    ARGV[5] retention (s)
    ARGV[6] G   ARGV[7..G+6] the replicas' names   ARGV[G+7] S   ARGV[G+8..G+S+7] replicas to skip
    ARGV[G+S+8..] message ids
  Output: the ids that were unread until now (a first read is noted on the webhook outbox); {'!STALE', replica…} when the replica list was stale
  (nothing written). The read frame goes to the user's sockets and onto the change log.
]]
local g = tonumber(ARGV[6])
local s = tonumber(ARGV[g + 7])
local first_id = g + s + 8
local n = #KEYS
local streams, missing = routes_of(KEYS[3], known_streams(4, 7, g), set_of(g + 8, g + s + 7))
if missing then return {'!STALE', unpack(missing)} end
local newly = {}
for i = first_id, #ARGV do
  if redis.call('ZREM', KEYS[1], ARGV[i]) == 1 then
    newly[#newly + 1] = ARGV[i]
    -- seen holds only unread ids: a read message is seen
    redis.call('ZREM', KEYS[2], ARGV[i])
    local receipt = KEYS[g + 4 + i - first_id]
    if redis.call('HSETNX', receipt, 'readAt', ARGV[1]) == 1 then
      outbox_note(KEYS[n - 3], ARGV[2], 'r', receipt, ARGV[i], ARGV[1])
    end
  end
end
if #newly > 0 then
  local frame = '{"type":"read","ids":["' .. table.concat(newly, '","') .. '"]}'
  local ttl = tonumber(ARGV[5])
  local c, cs = next_cursor(KEYS[n - 2])
  log_change(KEYS[n - 1], KEYS[n], cs, c, frame, ttl * 1000000, ttl)
  for _, st in ipairs(streams) do
    redis.call('XADD', st, 'MAXLEN', '~', ARGV[2], '*', 'k', 'r', 'u', ARGV[3], 'o', ARGV[4], 'p', frame)
  end
end
return newly
`,
} as const
