import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

export type RejectReason = 'invalid' | 'binary' | 'rate_limited' | 'too_large'
export type CloseReason = 'slow_consumer' | 'replay_overflow'

/** The gateway's own metrics, registered on the app's registry. */
export function createGatewayMetrics(registry: Registry) {
  const registers = [registry]
  return {
    openSockets: new Gauge({
      name: 'gateway_open_sockets',
      help: 'Client connections (WebSockets and SSE streams) registered on this replica',
      registers,
    }),
    sseStreams: new Gauge({
      name: 'gateway_sse_streams',
      help: 'Server-Sent Events streams open on this replica (clients whose WebSocket is blocked)',
      registers,
    }),
    delivered: new Counter({
      name: 'gateway_messages_delivered_total',
      help: 'Frames written to sockets from the delivery stream, by entry kind',
      labelNames: ['kind'] as const,
      registers,
    }),
    streamLag: new Histogram({
      name: 'gateway_stream_delivery_lag_ms',
      help: 'Time from a delivery-stream entry being added (its id) to its frames being written to sockets',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000],
      registers,
    }),
    streamEntries: new Counter({
      name: 'gateway_stream_entries_total',
      help: 'Delivery-stream entries read',
      registers,
    }),
    streamErrors: new Counter({
      name: 'gateway_stream_read_errors_total',
      help: 'Failed XREAD calls (the loop backs off and resumes from the last id)',
      registers,
    }),
    slowCloses: new Counter({
      name: 'gateway_slow_consumer_closes_total',
      help: 'Sockets closed 1013 because they did not keep up',
      labelNames: ['reason'] as const,
      registers,
    }),
    framesRejected: new Counter({
      name: 'gateway_frames_rejected_total',
      help: 'Client frames refused, by reason',
      labelNames: ['reason'] as const,
      registers,
    }),
    refused: new Counter({
      name: 'gateway_connections_refused_total',
      help: 'Upgrades closed right after the handshake, by close code',
      labelNames: ['code'] as const,
      registers,
    }),
  }
}
export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>
