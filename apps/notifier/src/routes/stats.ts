import { ErrorResponse, Scope, StatsView } from '@herald/contracts'
import type { ServiceApp } from '@herald/service-kit'
import type { Stats } from '../domain/stats'
import { SERVICE_TOKEN } from '../plugins/openapi'
import { requireScope } from '../plugins/service-auth'

export async function statsRoutes(app: ServiceApp, opts: { stats: Stats }): Promise<void> {
  app.get(
    '/v1/stats',
    {
      onRequest: requireScope(Scope.STATS_READ),
      schema: {
        tags: ['stats'],
        summary: 'Fleet, queue and delivery-stream figures',
        security: [{ [SERVICE_TOKEN]: [] }],
        response: { 200: StatsView, 401: ErrorResponse, 403: ErrorResponse, 503: ErrorResponse },
      },
    },
    async () => opts.stats.read(),
  )
}
