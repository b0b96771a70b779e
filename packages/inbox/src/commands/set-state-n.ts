import { ROUTE_LIB } from '@herald/presence'
import { INBOX_LIB } from './lib'

/**
 * Seen, unread again, archived, unarchived or deleted — for listed ids or for every message up
 * to a cursor — and the `state` frame for the user's other sockets: one atomic step. (Read has
 * its own script, mark-read, which also records the receipt's first read.)
 */
export const setState = {
  name: 'heraldSetState',
  lua: `${INBOX_LIB}${ROUTE_LIB}
--[[
  Input (the key count first):
    KEYS[1] inbox   KEYS[2] inbox messages   KEYS[3] unread   KEYS[4] seen   KEYS[5] archived
    KEYS[6] the user's routes hash   KEYS[7..G+6] the partition's known gateway streams
    KEYS[G+7] the partition's cursor   KEYS[G+8] the user's change log   KEYS[G+9] inbox meta
    ARGV[1] state: 'seen' | 'unread' | 'archived' | 'unarchived' | 'deleted'
    ARGV[2] up to (inclusive cursor; '' when ids are listed)   ARGV[3] stream max length
    ARGV[4] ttl (s) of the seen and archived sets   ARGV[5] user id   ARGV[6] origin connId ('' for none)
    ARGV[7] G   ARGV[8..G+7] the replicas' names   ARGV[G+8] S   ARGV[G+9..G+S+8] replicas to skip
    ARGV[G+S+9..] message ids (none when up to is given)
  Output: the ids whose state changed (ids not in the inbox are skipped);
  {'!STALE', replica…} when the replica list was stale (nothing written). The state frame goes to
  the user's sockets and onto the change log.
  Seen holds only unread ids (a read message is seen), so counts need no scan: unseen = unread − seen.
]]
local g = tonumber(ARGV[7])
local s = tonumber(ARGV[g + 8])
local streams, missing = routes_of(KEYS[6], known_streams(7, 8, g), set_of(g + 9, g + s + 8))
if missing then return {'!STALE', unpack(missing)} end
local state = ARGV[1]
local ids = {}
if ARGV[2] ~= '' then
  ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
else
  for i = g + s + 9, #ARGV do ids[#ids + 1] = ARGV[i] end
end
local changed = {}
for _, id in ipairs(ids) do
  local score = redis.call('ZSCORE', KEYS[1], id)
  local done = 0
  if not score then
    done = 0
  elseif state == 'seen' then
    if redis.call('ZSCORE', KEYS[3], id) then done = redis.call('ZADD', KEYS[4], 'NX', score, id) end
  elseif state == 'unread' then
    done = redis.call('ZADD', KEYS[3], 'NX', score, id)
    if done == 1 then redis.call('ZADD', KEYS[4], score, id) end
  elseif state == 'archived' then
    done = redis.call('ZADD', KEYS[5], 'NX', score, id)
  elseif state == 'unarchived' then
    done = redis.call('ZREM', KEYS[5], id)
  elseif state == 'deleted' then
    done = redis.call('ZREM', KEYS[1], id)
    redis.call('HDEL', KEYS[2], id)
    redis.call('ZREM', KEYS[3], id)
    redis.call('ZREM', KEYS[4], id)
    redis.call('ZREM', KEYS[5], id)
  end
  if done == 1 then changed[#changed + 1] = id end
end
if #changed == 0 then return changed end
redis.call('EXPIRE', KEYS[4], tonumber(ARGV[4]))
redis.call('EXPIRE', KEYS[5], tonumber(ARGV[4]))
local frame
if ARGV[2] ~= '' then
  frame = '{"type":"state","state":"' .. state .. '","upTo":"' .. ARGV[2] .. '"}'
else
  frame = '{"type":"state","state":"' .. state .. '","ids":["' .. table.concat(changed, '","') .. '"]}'
end
local ttl = tonumber(ARGV[4])
local c, cs = next_cursor(KEYS[g + 7])
log_change(KEYS[g + 8], KEYS[g + 9], cs, c, frame, ttl * 1000000, ttl)
for _, st in ipairs(streams) do
  redis.call('XADD', st, 'MAXLEN', '~', ARGV[3], '*', 'k', 'r', 'u', ARGV[5], 'o', ARGV[6], 'p', frame)
end
return changed
`,
} as const
