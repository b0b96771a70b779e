import { INBOX_LIB } from './lib'

/**
 * The Web Pushes a message to everyone owes in a chunk of one partition's users: to those it is
 * owed (see announcement_owed), not silent for its kind, not read yet, with no live socket and a
 * push subscription. Reads only; the push job's id dedupes a second ask.
 */
export const announcePush = {
  name: 'heraldAnnouncePush',
  lua: `${INBOX_LIB}
--[[
  Input (the key count first):
    KEYS[1] the partition's announcement log   KEYS[2] announcement attrs
    ARGV[1] message id
    ARGV[2..13] what surrounds the user id in each user key (before, after; in this order: user
    record, preferences, routes, push subscriptions, unread, inbox meta)
    ARGV[14..] the user ids
  Output: the users owed a push now.
]]
local id = ARGV[1]
local ann = redis.call('ZSCORE', KEYS[1], id)
local json = ann and redis.call('HGET', KEYS[2], id)
if not json then return {} end
local attrs = cjson.decode(json)
local now = now_ms()
local function key(n, i) return user_key(2, n, ARGV[i]) end
local out = {}
-- not read: not taken in yet (the watermark before it), or still unread in the inbox
local function unread(i)
  return tonumber(redis.call('HGET', key(6, i), 'absorbed') or '0') < tonumber(ann) or redis.call('ZSCORE', key(5, i), id)
end
for i = 14, #ARGV do
  -- a live socket first: the common case ends at one call
  local created = redis.call('HLEN', key(3, i)) == 0 and redis.call('HGET', key(1, i), 'createdAt')
  if created and push_owed('o', false, key(4, i)) ~= ''
    and announcement_owed(attrs, ann, created, key(2, i), now, false)
    and (attrs.k == '' or redis.call('HGET', key(2, i), attrs.k) ~= 'silent') and unread(i) then
    out[#out + 1] = ARGV[i]
  end
end
return out
`,
} as const
