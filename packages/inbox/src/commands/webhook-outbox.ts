/**
 * Lua shared by the receipt scripts (record-acks, mark-read): notes a receipt's first
 * delivery or first read on the partition's webhook outbox, which the notifier worker turns
 * into webhooks for the message's calling system. Only messages with a source and one user
 * are noted (a message to everyone is not reported per user), and only when its receipt's `wh`
 * names the kind: the notifier sets it at delivery when the calling system has an endpoint
 * for it, so a system without webhooks costs no outbox entry per message. At most once per
 * message and kind: the caller notes only after its HSETNX set the field.
 */
export const OUTBOX_LIB = `
-- kind 'd' delivered or 'r' read; receipt: the receipt hash; at: epoch ms
local function outbox_note(outbox, maxlen, kind, receipt, message_id, at)
  local r = redis.call('HMGET', receipt, 'userId', 'source', 'wh')
  if not r[1] or r[1] == '*' or not r[2] or r[2] == '' then return end
  if not r[3] or not string.find(r[3], kind, 1, true) then return end
  redis.call('XADD', outbox, 'MAXLEN', '~', maxlen, '*', 'e', kind, 'm', message_id, 'u', r[1], 's', r[2], 't', at)
end
`
