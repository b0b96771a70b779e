import { ROUTE_LIB } from '@herald/presence'
import { INBOX_LIB } from './lib'

/** One message for one user: inbox, receipt and the entries for the user's gateways, one atomic step. */
export const deliverOne = {
  name: 'heraldDeliverOne',
  lua: `${INBOX_LIB}${ROUTE_LIB}
--[[
  Input (the key count first):
    KEYS[1] the partition's cursor
    KEYS[2] inbox   KEYS[3] inbox messages   KEYS[4] unread   KEYS[5] inbox meta
    KEYS[6] message recipients set   KEYS[7] message receipt hash   KEYS[8] the user's routes hash
    KEYS[9..G+8] the streams of the partition's known gateway replicas
    ARGV[1] user id   ARGV[2] message id   ARGV[3] frame tail (JSON of the message without '{' and cursor)
    ARGV[4] inbox max items   ARGV[5] retention (s)   ARGV[6] stream max length   ARGV[7] created at (ms)
    ARGV[8] source (the calling system)   ARGV[9] G   ARGV[10..G+9] the replicas' names (order of their streams)
    ARGV[G+10..] replicas to skip (left the cluster)
  Output: the new cursor; false when this user already has this message; {'!STALE', replica…}
  when the user has a route to a replica not in the call (nothing written: call again).
  The inbox write, the receipt and the entries go together: a gateway that holds a socket of
  the user when this runs gets the entry; a socket registered after it finds the message in
  the inbox below the cursor its registration returned.
]]
local g = tonumber(ARGV[9])
local streams, missing = routes_of(KEYS[8], known_streams(9, 10, g), set_of(g + 10, #ARGV))
if missing then return {'!STALE', unpack(missing)} end
if redis.call('SADD', KEYS[6], ARGV[1]) == 0 then return false end
local ttl = tonumber(ARGV[5])
redis.call('EXPIRE', KEYS[6], ttl)
local c, cs = next_cursor(KEYS[1])
local frame = '{"type":"message","cursor":"' .. cs .. '",' .. ARGV[3]
inbox_write(KEYS[2], KEYS[3], KEYS[4], KEYS[5], ARGV[2], cs, c, frame, tonumber(ARGV[4]), ttl * 1000000, ttl)
redis.call('HSETNX', KEYS[7], 'userId', ARGV[1])
redis.call('HSETNX', KEYS[7], 'source', ARGV[8])
redis.call('HSETNX', KEYS[7], 'createdAt', ARGV[7])
redis.call('EXPIRE', KEYS[7], ttl)
for _, s in ipairs(streams) do
  redis.call('XADD', s, 'MAXLEN', '~', ARGV[6], '*', 'k', 'm', 'u', ARGV[1], 'c', cs, 'p', frame)
end
return cs
`,
} as const
