import { INBOX_LIB } from './lib'

/** The user's counts per state, archived messages counted only as archived. */
export const counts = {
  name: 'heraldCounts',
  numberOfKeys: 11,
  lua: `${INBOX_LIB}
--[[
  Input:
    KEYS[1] inbox   KEYS[2] unread   KEYS[3] seen   KEYS[4] archived   KEYS[5] inbox messages   KEYS[6] expiring
    KEYS[7] inbox meta
    KEYS[8..11] what absorb reads: the partition's announcement log and attrs, the user's record and preferences
    ARGV[1] inbox max items   ARGV[2] retention (s)
  Output: {total, unread, unseen, archived} — total, unread and unseen leave archived messages out.
  Seen is a subset of unread and archived a subset of the inbox, so no member is visited but
  by ZINTERCARD (bounded by the inbox's count bound). The messages to everyone the user is owed
  are taken in first, then messages past their expiry are removed.
]]
absorb_before_read(8, 1, KEYS[1], KEYS[5], KEYS[2], KEYS[7], KEYS[3], KEYS[4], KEYS[6])
purge_expired(KEYS[1], KEYS[5], KEYS[2], KEYS[3], KEYS[4], KEYS[6])
local archived = redis.call('ZCARD', KEYS[4])
local unread = redis.call('ZCARD', KEYS[2])
local seen = redis.call('ZCARD', KEYS[3])
local unread_archived = 0
local seen_archived = 0
if archived > 0 then
  unread_archived = redis.call('ZINTERCARD', 2, KEYS[2], KEYS[4])
  seen_archived = redis.call('ZINTERCARD', 2, KEYS[3], KEYS[4])
end
return {
  redis.call('ZCARD', KEYS[1]) - archived,
  unread - unread_archived,
  (unread - seen) - (unread_archived - seen_archived),
  archived,
}
`,
} as const
