import { ErrorResponse, PreferencesBody, PreferencesReply } from '@herald/contracts'
import type { Preferences } from '@herald/inbox'
import { requireSession, type ServiceApp } from '@herald/service-kit'
import { NotifierErrors } from '../errors'
import { SESSION_TOKEN } from '../plugins/openapi'

export interface PreferenceRoutesOptions {
  preferences: Preferences
  /** kinds no user may mute (the catalog's) */
  mandatoryKinds: ReadonlySet<string>
}

/**
 * The signed-in user's choice per message kind: off (not delivered), silent (inbox only) or on.
 * Delivery reads them in the same atomic step that writes a message.
 */
export async function preferenceRoutes(app: ServiceApp, opts: PreferenceRoutesOptions): Promise<void> {
  const { preferences, mandatoryKinds } = opts
  const mandatory = [...mandatoryKinds].sort()
  const security = [{ [SESSION_TOKEN]: [] }]

  app.get(
    '/inbox/preferences',
    {
      preHandler: requireSession,
      schema: {
        tags: ['inbox'],
        summary: "The signed-in user's notification preferences",
        description: 'The kinds set apart from `on`, and the kinds nobody may mute.',
        security,
        response: { 200: PreferencesReply, 401: ErrorResponse, 503: ErrorResponse },
      },
    },
    async (request) => ({ kinds: await preferences.get(request.session!.userId), mandatory }),
  )

  app.put(
    '/inbox/preferences',
    {
      preHandler: requireSession,
      schema: {
        tags: ['inbox'],
        summary: 'Replace the notification preferences',
        description:
          'Per message kind: `off` (not delivered; the receipt says `muted`), `silent` (kept in the inbox, not pushed live) or `on`. Replaces every earlier choice. Muting a kind of `mandatory` answers 400 `KIND_NOT_MUTABLE`.',
        security,
        body: PreferencesBody,
        response: { 200: PreferencesReply, 400: ErrorResponse, 401: ErrorResponse, 503: ErrorResponse },
      },
    },
    async (request) => {
      const { kinds } = request.body
      const refused = Object.keys(kinds).filter((k) => kinds[k] !== 'on' && mandatoryKinds.has(k))
      if (refused.length > 0) throw new NotifierErrors.KindNotMutable(refused.join(', '))
      return { kinds: await preferences.replace(request.session!.userId, kinds), mandatory }
    },
  )
}
