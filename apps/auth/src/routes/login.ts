import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { LoginBody, LoginReply } from '@herald/contracts'
import { enqueueLogin } from '../events'
import { defaultNickname, maskPhone, normalizePhone } from '../phone'
import { userView } from '../users'
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
      await app.otp.verify(phone.e164, request.body.code)
      const now = app.clock()
      const { user, created } = await app.users.findOrCreate(phone.e164, defaultNickname(phone.e164), now)
      const device = deviceName(request.body.device, request.headers['user-agent'])
      const { token, record } = await app.sessions.create(
        { userId: user.id, nickname: user.nickname, phone: maskPhone(user.phone), device },
        now,
      )
      request.log.info({ userId: user.id, sessionId: record.id, created }, 'signed in')
      await enqueueLogin(
        app.events,
        { userId: user.id, device, ip: request.ip.slice(0, 64) },
        { now, timeoutMs: opts.enqueueTimeoutMs, log: request.log },
      )
      return { token, expiresIn: app.sessions.idleTtlSeconds, user: userView(user) }
    },
  )
}
