import { ROUTE_LIB } from './route-lib'

/** Appends a control entry (close sockets) for a user to the gateways that hold the user. */
export const control = {
  name: 'heraldControl',
  lua: `${ROUTE_LIB}
--[[
  Input (the key count first):
    KEYS[1] the user's routes hash   KEYS[2..G+1] the streams of the partition's known replicas
    ARGV[1] stream max length   ARGV[2] user id   ARGV[3] session id ('' = every session)   ARGV[4] reason
    ARGV[5] G   ARGV[6..G+5] the replicas' names (same order as their streams)   ARGV[G+6..] replicas to skip
  Output: the number of streams appended to, or {'!STALE', replica…} when a route has no stream in KEYS.
]]
local g = tonumber(ARGV[5])
local skip = {}
for i = g + 6, #ARGV do skip[ARGV[i]] = true end
local streams, missing = routes_of(KEYS[1], known_streams(2, 6, g), skip)
if missing then return {'!STALE', unpack(missing)} end
for _, s in ipairs(streams) do
  if ARGV[3] ~= '' then
    redis.call('XADD', s, 'MAXLEN', '~', ARGV[1], '*', 'k', 'x', 'u', ARGV[2], 's', ARGV[3], 'p', ARGV[4])
  else
    redis.call('XADD', s, 'MAXLEN', '~', ARGV[1], '*', 'k', 'x', 'u', ARGV[2], 'p', ARGV[4])
  end
end
return #streams
`,
} as const
