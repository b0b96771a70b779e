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
    KEYS[#KEYS] the partition's webhook outbox stream
    ARGV[1] now (ms)   ARGV[2] stream max length   ARGV[3] user id   ARGV[4] origin connId ('' for none)
    ARGV[5] G   ARGV[6..G+5] the replicas' names   ARGV[G+6] S   ARGV[G+7..G+S+6] replicas to skip
    ARGV[G+S+7..] message ids
  Output: the ids that were unread until now (a first read is noted on the webhook outbox); {'!STALE', replica…} when the replica list was stale
  (nothing written).
]]
local g = tonumber(ARGV[5])
local s = tonumber(ARGV[g + 6])
local first_id = g + s + 7
local streams, missing = routes_of(KEYS[3], known_streams(4, 6, g), set_of(g + 7, g + s + 6))
if missing then return {'!STALE', unpack(missing)} end
local newly = {}
for i = first_id, #ARGV do
  if redis.call('ZREM', KEYS[1], ARGV[i]) == 1 then
    newly[#newly + 1] = ARGV[i]
    -- seen holds only unread ids: a read message is seen
    redis.call('ZREM', KEYS[2], ARGV[i])
    local receipt = KEYS[g + 4 + i - first_id]
    if redis.call('HSETNX', receipt, 'readAt', ARGV[1]) == 1 then
      outbox_note(KEYS[#KEYS], ARGV[2], 'r', receipt, ARGV[i], ARGV[1])
    end
  end
end
if #newly > 0 then
  local frame = '{"type":"read","ids":["' .. table.concat(newly, '","') .. '"]}'
  for _, st in ipairs(streams) do
    redis.call('XADD', st, 'MAXLEN', '~', ARGV[2], '*', 'k', 'r', 'u', ARGV[3], 'o', ARGV[4], 'p', frame)
  end
end
return newly
`,
} as const
