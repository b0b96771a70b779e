/**
 * Lua shared by every script that appends entries for a user to the gateways holding them
 * (prepended to the script). The caller passes the streams of every known replica of the
 * partition in KEYS and their names in ARGV, in the same order; the user's routes hash
 * (replica → connections) says which of them to append to.
 *
 *   known_streams(first_key, first_name, count) → map replica name → stream key (from KEYS/ARGV)
 *   routes_of(routes_key, by_name, skip) → the streams to append to, and the user's routes
 *     missing from the call (nil when none): the caller's replica list was stale, so the
 *     script returns {'!STALE', …} before writing anything and the caller calls again.
 */
export const ROUTE_LIB = `
local function known_streams(first_key, first_name, count)
  local by_name = {}
  for i = 0, count - 1 do by_name[ARGV[first_name + i]] = KEYS[first_key + i] end
  return by_name
end

local function routes_of(routes_key, by_name, skip)
  local out = {}
  local missing = nil
  for _, r in ipairs(redis.call('HKEYS', routes_key)) do
    local s = by_name[r]
    if s then out[#out + 1] = s
    elseif not skip[r] then
      missing = missing or {}
      missing[#missing + 1] = r
    end
  end
  return out, missing
end

-- routes_of for each user of a chunk, ARGV[first_user..]: their routes by ARGV index, and every
-- replica missing for any of them (nil when none). routes_key(i): KEYS entry of user i's routes.
local function routes_of_users(first_user, routes_key, by_name, skip)
  local routes = {}
  local missing_all = nil
  for i = first_user, #ARGV do
    local r, missing = routes_of(routes_key(i), by_name, skip)
    if missing then
      missing_all = missing_all or {}
      for _, m in ipairs(missing) do missing_all[#missing_all + 1] = m end
    end
    routes[i] = r
  end
  return routes, missing_all
end
`

/** The reply of a routed script whose replica list was stale: nothing was written. */
export const STALE = '!STALE'
