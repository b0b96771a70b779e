import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { LoginBody, LoginReply } from '@herald/contracts'
import { enqueueLogin } from '../events'
import { defaultNickname, maskPhone, normalizePhone } from '../phone'
import { newUserId, userView } from '../users'
import { errorReplies } from './common'

export interface LoginRoutesOptions {
  region: string
  perMinutePerIp: number
  enqueueTimeoutMs: number
}

/** A device name from the User-Agent when the client gave none (bounded like the body field). */
function deviceName(given: string | undefined, userAgent: string | undefined): string {
  return (given ?? userAgent ?? 'unknown').slice(0, 64) || 'unknown'
}

/** POST /auth/login: checks and burns the code, creates the user on first login, opens a session. */
export const loginRoutes: FastifyPluginAsyncTypebox<LoginRoutesOptions> = async (app, opts) => {
  app.post(
    '/login',
    {
      schema: { body: LoginBody, response: { 200: LoginReply, ...errorReplies } },
      config: { rateLimit: { max: opts.perMinutePerIp, timeWindow: 60_000 } },
    },
    async (request) => {
      const phone = normalizePhone(request.body.phone, opts.region)
      // Three round trips: the code check (which claims the phone's user id), the user record,
      // then the session and the account.login event together (the event needs only the user).
      const userId = await app.otp.verify(phone.e164, request.body.code, newUserId())
      const now = app.clock()
      const { user, created } = await app.users.ensure(userId, phone.e164, defaultNickname(phone.e164), now)
      const device = deviceName(request.body.device, request.headers['user-agent'])
      // enqueueLogin never throws (a sign-in does not fail because the queue is down). Were the
      // session write to fail after the event went out, the user would hear of a sign-in with a
      // right code that got no session: a notice worth having either way.
      const [{ token, record }] = await Promise.all([
        app.sessions.create({ userId: user.id, nickname: user.nickname, phone: maskPhone(user.phone), device }, now),
        enqueueLogin(
          app.events,
          { userId: user.id, device, ip: request.ip.slice(0, 64) },
          { now, timeoutMs: opts.enqueueTimeoutMs, log: request.log },
        ),
      ])
      request.log.info({ userId: user.id, sessionId: record.id, created }, 'signed in')
      return { token, expiresIn: app.sessions.idleTtlSeconds, user: userView(user) }
    },
  )
}
