import { AccountLoginData } from '@herald/contracts'
import { defineEvent } from './types'

/**
 * Enqueued by auth on every login. The new device has no socket yet when it is delivered,
 * so what it reaches live is the user's OTHER devices; the new one finds it in /inbox.
 */
export const accountLogin = defineEvent({
  type: 'account.login',
  description: "A new sign-in to the user's account: tells the user's other devices.",
  schema: AccountLoginData,
  example: { userId: 'u_3b9f2c', device: 'Firefox on Linux', ip: '203.0.113.7' },
  // a sign-in the user did not make must reach them whatever they muted
  mandatoryKinds: ['account.login'],
  handle({ data }) {
    return {
      to: 'users',
      messages: [
        {
          userId: data.userId,
          kind: 'account.login',
          title: 'New sign-in to your account',
          body: `Signed in on ${data.device || 'an unknown device'} from ${data.ip || 'an unknown address'}. Not you? Sign out everywhere.`,
          data: { device: data.device, ip: data.ip },
        },
      ],
    }
  },
})
