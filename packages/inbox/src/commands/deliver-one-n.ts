import { ROUTE_LIB } from '@herald/presence'
import { INBOX_LIB } from './lib'

/**
 * One message for one user: the user's preference for its kind, inbox, receipt and the
 * entries for the user's gateways, one atomic step.
 */
export const deliverOne = {
  name: 'heraldDeliverOne',
  lua: `${INBOX_LIB}${ROUTE_LIB}
--[[
  Input (the key count first):
    KEYS[1] the partition's cursor
    KEYS[2] inbox   KEYS[3] inbox messages   KEYS[4] unread   KEYS[5] inbox meta   KEYS[6] seen   KEYS[7] archived
    KEYS[8] expiring   KEYS[9] message receipt hash   KEYS[10] the user's routes hash
    KEYS[11] the user's preferences hash (kind → 'off' | 'silent')   KEYS[12] the user's Web Push subscriptions
    KEYS[13..G+12] the streams of the partition's known gateway replicas
    ARGV[1] user id   ARGV[2] message id   ARGV[3] frame tail (JSON of the message without '{' and cursor)
    ARGV[4] inbox max items   ARGV[5] retention (s)   ARGV[6] stream max length   ARGV[7] created at (ms)
    ARGV[8] source (the calling system)
    ARGV[9] the kind whose preference applies ('' for a kind nobody may mute)
    ARGV[10] devices: '' every session of the user, 's1,s2' only these, '!s0' all but s0
    ARGV[11] the receipt events the source's webhooks want noted: 'd' first ack, 'r' first read, or ''
    ARGV[12] Web Push: '' off, 'o' tell when an offline user has a subscription, 'u' also an online one
    ARGV[13] expires at (ms), '' for never
    ARGV[14] G   ARGV[15..G+14] the replicas' names (order of their streams)
    ARGV[G+15..] replicas to skip (left the cluster)
  Output: the new cursor; false when this user already has this message (or it was canceled
  for them: DELETE /v1/messages/:id marks the receipt canceled first) — or, with Web Push
  on, '!DUP+p' / '!DUP+u' when they have it and a push is still owed (below); '!OFF' when the user
  turned the kind off (only the receipt is written, marked muted); '!EXP' when it expired before
  it could be written (only the receipt, marked expired); {'!STALE', replica…} when the user has
  a route to a replica not in the call (nothing written: call again).
  The receipt is the claim: a message id names one user (an error for another), and a written
  receipt has 'createdAt' (written, muted or silent), 'expired' or 'canceledAt' — any of them,
  and this call writes nothing again. So a delivery creates one key besides the user's: its
  receipt.
  The inbox write, the receipt and the entries go together: a gateway that holds a socket of
  the user when this runs gets the entry; a socket registered after it finds the message in
  the inbox below the cursor its registration returned. A kind set 'silent' is written to
  the inbox and the receipt, with no entry: nothing is pushed live. A message with an expiry
  goes into the expiring set too (the read scripts drop it once past), and its entries carry
  it as 'x' (a gateway that reads the entry late does not send it).
  With Web Push on, a written message that is not silent ends its cursor with '+p' when the
  user has no route (no live socket) and a push subscription — one EXISTS, only then — and
  with 'u', '+u' when the user has a route and a subscription (a push if it stays unacked).
]]
local g = tonumber(ARGV[14])
local streams, missing = routes_of(KEYS[10], known_streams(13, 15, g), set_of(g + 15, #ARGV))
if missing then return {'!STALE', unpack(missing)} end
local claim = redis.call('HMGET', KEYS[9], 'createdAt', 'expired', 'canceledAt', 'userId', 'deliveredAt', 'pushedAt')
if claim[1] or claim[2] or claim[3] then
  if claim[4] ~= ARGV[1] then return redis.error_reply('ERR message id ' .. ARGV[2] .. ' names another user') end
  -- written before (a retried delivery): nothing is written again, but a push still owed —
  -- in the inbox, not acked, not pushed, not silent — is asked for again, in case the first
  -- run's caller could not queue it (the push job's id dedupes a second one)
  if ARGV[12] == '' or claim[5] or claim[6] then return false end
  if not redis.call('ZSCORE', KEYS[2], ARGV[2]) then return false end
  if ARGV[9] ~= '' and redis.call('HGET', KEYS[11], ARGV[9]) == 'silent' then return false end
  local owed = push_owed(ARGV[12], #streams > 0, KEYS[12])
  if owed == '' then return false end
  return '!DUP' .. owed
end
local ttl = tonumber(ARGV[5])
local exp = ARGV[13]
-- the first write of this receipt: the claim above admits one call per message id
if exp ~= '' and now_ms() >= tonumber(exp) then
  redis.call('HSET', KEYS[9], 'userId', ARGV[1], 'source', ARGV[8], 'expiresAt', exp, 'expired', '1')
  redis.call('EXPIRE', KEYS[9], ttl)
  return '!EXP'
end
local pref = false
if ARGV[9] ~= '' then pref = redis.call('HGET', KEYS[11], ARGV[9]) end
if pref == 'off' then
  redis.call('HSET', KEYS[9], 'userId', ARGV[1], 'source', ARGV[8], 'createdAt', ARGV[7], 'muted', '1')
  redis.call('EXPIRE', KEYS[9], ttl)
  return '!OFF'
end
local c, cs = next_cursor(KEYS[1])
local frame = message_frame(cs, ARGV[3])
local exp_score = expiry_score(exp, ARGV[7], ttl)
inbox_write(KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], ARGV[2], cs, c, frame, tonumber(ARGV[4]), ttl * 1000000, ttl, exp_score)
local receipt = {'userId', ARGV[1], 'source', ARGV[8], 'createdAt', ARGV[7]}
if ARGV[11] ~= '' then
  receipt[#receipt + 1] = 'wh'
  receipt[#receipt + 1] = ARGV[11]
end
if exp ~= '' then
  receipt[#receipt + 1] = 'expiresAt'
  receipt[#receipt + 1] = exp
end
redis.call('HSET', KEYS[9], unpack(receipt))
redis.call('EXPIRE', KEYS[9], ttl)
if pref == 'silent' then return cs end
for _, s in ipairs(streams) do add_message_entry(s, ARGV[6], ARGV[1], cs, ARGV[10], exp_score, frame) end
return cs .. push_owed(ARGV[12], #streams > 0, KEYS[12])
`,
} as const
