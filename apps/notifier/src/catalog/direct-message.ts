import { SendMessageBody } from '@herald/contracts'
import { Type } from 'typebox'
import { defineEvent } from './types'

/** The job of `POST /v1/messages`: internal, not accepted by `POST /v1/events`. */
export const DIRECT_MESSAGE_TYPE = 'herald.message'

// when and how long: resolved by the route into the job (its delay, its expiresAt)
const { deliverAt: _deliverAt, ttl: _ttl, expiresAt: _expiresAt, ...props } = SendMessageBody.properties
export const DirectMessageData = Type.Object(props, { additionalProperties: false })

export const directMessage = defineEvent({
  type: DIRECT_MESSAGE_TYPE,
  description: 'A message written by another system through POST /v1/messages.',
  schema: DirectMessageData,
  example: { to: { userIds: ['u_3b9f2c'] }, title: 'Hello', body: 'World' },
  handle({ data }) {
    const content = {
      kind: data.kind ?? 'message',
      title: data.title,
      body: data.body,
      data: data.data ?? {},
      ...(data.exceptSessionId !== undefined ? { exceptSessionId: data.exceptSessionId } : {}),
    }
    if ('all' in data.to) return { to: 'all', message: content }
    const sessionIds = data.to.sessionIds
    return {
      to: 'users',
      messages: data.to.userIds.map((userId) => ({ userId, ...content, ...(sessionIds ? { sessionIds } : {}) })),
    }
  },
})
