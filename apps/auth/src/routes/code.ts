import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { SendCodeBody, SendCodeReply } from '@herald/contracts'
import { allowedCountries } from '../config'
import { assertCountryAllowed, normalizePhone } from '../phone'
import { errorReplies } from './common'

export interface CodeRoutesOptions {
  region: string
  /** SMS_ALLOWED_COUNTRIES: empty means the region's own country only, `*` any country */
  allowedCountries: string
  perMinutePerIp: number
  ttlSeconds: number
  resendSeconds: number
}

/**
 * POST /auth/code: sends a one-time code. The answer is the same whether or not the phone
 * belongs to a user.
 */
export const codeRoutes: FastifyPluginAsyncTypebox<CodeRoutesOptions> = async (app, opts) => {
  const allowed = allowedCountries(opts.allowedCountries, opts.region)
  app.post(
    '/code',
    {
      schema: { body: SendCodeBody, response: { 202: SendCodeReply, ...errorReplies } },
      config: { rateLimit: { max: opts.perMinutePerIp, timeWindow: 60_000 } },
    },
    async (request, reply) => {
      const phone = normalizePhone(request.body.phone, opts.region)
      assertCountryAllowed(phone, allowed)
      // request.ip: the client's address (X-Forwarded-For only from TRUST_PROXY)
      await app.otp.send(phone.e164, phone.country, request.ip, app.sms)
      return reply.status(202).send({ expiresIn: opts.ttlSeconds, resendIn: opts.resendSeconds })
    },
  )
}
