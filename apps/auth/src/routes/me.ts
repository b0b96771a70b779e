import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { PatchMeBody, User } from '@herald/contracts'
import { HttpErrors, requireSession } from '@herald/service-kit'
import { AuthErrors } from '../errors'
import { userView } from '../users'
import { errorReplies } from './common'

/** GET and PATCH /auth/me: the signed-in user. */
export const meRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/me',
    { preHandler: requireSession, schema: { response: { 200: User, ...errorReplies } } },
    // Answered from the session the request was authenticated with (one round trip, the
    // session check itself): a session holds its user's id, masked phone and nickname, and
    // PATCH /auth/me copies a new nickname into every live session of the user.
    async (request) => {
      const s = request.session!
      return { id: s.userId, nickname: s.nickname, phone: s.phone }
    },
  )

  app.patch(
    '/me',
    { preHandler: requireSession, schema: { body: PatchMeBody, response: { 200: User, ...errorReplies } } },
    async (request) => {
      const nickname = request.body.nickname.trim()
      if (!nickname) throw new AuthErrors.InvalidNickname()
      const userId = request.session!.userId
      const user = await app.users.rename(userId, nickname)
      if (!user) throw new HttpErrors.Unauthorized()
      // pages read the nickname from the session: copy it into every live one
      await app.sessions.setNickname(userId, nickname)
      return userView(user)
    },
  )
}
