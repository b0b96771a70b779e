import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Stack, type StackOptions, startStack } from '../../src/stack'
import { api } from '../client'

/** A stack on free ports in a temp dir, logging to files (scanned for secrets at the end). */
export async function e2eStack(opts: StackOptions = {}): Promise<Stack> {
  return startStack({
    port: 0,
    dir: mkdtempSync(join(tmpdir(), 'herald-e2e-')),
    logToFiles: true,
    ...opts,
    env: {
      // e2e logs in many users from one address: per-IP limits are tested in the auth suite
      RATE_LIMIT_CODE_PER_MINUTE_PER_IP: '100000',
      RATE_LIMIT_LOGIN_PER_MINUTE_PER_IP: '100000',
      // a second device of one phone logs in a second later, not a minute
      OTP_RESEND_SECONDS: '1',
      HEARTBEAT_INTERVAL_MS: '1000',
      // a kill -9'ed worker's jobs come back in seconds
      JOB_LOCK_MS: '4000',
      JOB_STALLED_INTERVAL_MS: '2000',
      ...opts.env,
    },
  })
}

export async function sendTo(stack: Stack, userIds: string[], title: string, data: Record<string, unknown> = {}) {
  const res = await api<{ ids: string[] }>(stack.url, 'POST', '/v1/messages', {
    token: stack.serviceToken,
    body: { to: { userIds }, title, body: title, data },
  })
  if (res.status !== 202) throw new Error(`POST /v1/messages → ${res.status} ${JSON.stringify(res.body)}`)
  return res.body.ids
}

export async function postEvent(stack: Stack, event: Record<string, unknown>) {
  return api<{ id: string; status: string }>(stack.url, 'POST', '/v1/events', {
    token: stack.serviceToken,
    body: event,
  })
}
