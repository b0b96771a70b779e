import { INBOX_LIB } from './lib'

/**
 * Takes the partition's messages to everyone that the user is owed and has not taken in yet into
 * the user's inbox (see absorb in lib). Sent just before a read or a change of state of messages
 * to everyone (on the same connection, so in order); the read scripts (since, page, counts) take
 * them in themselves, in the same call (absorb_before_read).
 */
export const absorbAnnouncements = {
  name: 'heraldAbsorb',
  numberOfKeys: 11,
  lua: `${INBOX_LIB}
--[[
  Input:
    KEYS[1] the partition's announcement log   KEYS[2] announcement attrs
    KEYS[3] the user's record   KEYS[4] the user's preferences
    KEYS[5] inbox   KEYS[6] inbox messages   KEYS[7] unread   KEYS[8] inbox meta
    KEYS[9] seen   KEYS[10] archived   KEYS[11] expiring
    ARGV[1] inbox max items   ARGV[2] retention (s)
  Output: how many it took in.
]]
local ttl = tonumber(ARGV[2])
return absorb(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[11], tonumber(ARGV[1]), ttl * 1000000, ttl)
`,
} as const
