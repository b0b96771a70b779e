import { ChatMessageData } from '@herald/contracts'
import { defineEvent } from './types'

export const chatMessage = defineEvent({
  type: 'chat.message',
  description: 'A chat message from one user to another.',
  schema: ChatMessageData,
  example: { fromUserId: 'u_3b9f2c', toUserId: 'u_77aa01', text: 'Lunch at noon?' },
  async handle({ data }, ctx) {
    const from = (await ctx.nickname(data.fromUserId)) ?? data.fromUserId
    return {
      to: 'users',
      messages: [
        {
          userId: data.toUserId,
          kind: 'chat.message',
          title: `Message from ${from}`,
          body: data.text,
          data: { fromUserId: data.fromUserId },
        },
      ],
    }
  },
})
