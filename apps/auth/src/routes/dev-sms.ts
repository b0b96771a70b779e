import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { DevSmsReply, Phone } from '@herald/contracts'
import type { Keys } from '@herald/keys'
import type { RedisClient } from '@herald/redis'
import { HttpErrors } from '@herald/service-kit'
import { Type } from 'typebox'
import { normalizePhone } from '../phone'
import { readDevCode } from '../sms/dev'
import { errorReplies } from './common'

export interface DevSmsRoutesOptions {
  redis: RedisClient
  keys: Keys
  region: string
}

/** GET /auth/dev/sms/:phone: the last code the dev provider "sent". Registered only while SMS_PROVIDER=dev. */
export const devSmsRoutes: FastifyPluginAsyncTypebox<DevSmsRoutesOptions> = async (app, opts) => {
  app.get(
    '/dev/sms/:phone',
    {
      schema: {
        params: Type.Object({ phone: Phone }),
        response: { 200: DevSmsReply, ...errorReplies },
      },
    },
    async (request) => {
      const phone = normalizePhone(request.params.phone, opts.region)
      const code = await readDevCode(opts.redis, opts.keys, phone.e164)
      if (!code) throw new HttpErrors.NotFound('Code')
      return { code }
    },
  )
}
