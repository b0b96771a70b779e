import { describe, expect, it } from 'vitest'
import { createLogFormatter, formatLogLine } from '../src/log-format'

const base = { time: Date.UTC(2026, 0, 1, 12, 0, 0), pid: 1, hostname: 'h', service: 'auth', replica: 'auth-1' }
const line = (o: object) => JSON.stringify({ ...base, ...o })
const quiet = { verbose: false, color: false }

describe('formatLogLine', () => {
  it('prints a pino line as one readable line with its fields', () => {
    const out = formatLogLine(line({ level: 30, msg: 'signed in', userId: 'u1', created: true }), quiet)
    expect(out).toMatch(/^\d\d:\d\d:\d\d INFO {2}signed in userId=u1 created=true$/)
  })

  it('leaves out requests that went well, unless verbose', () => {
    const incoming = line({ level: 30, reqId: 'r1', msg: 'incoming request', req: { method: 'GET', url: '/healthz' } })
    const ok = line({ level: 30, reqId: 'r1', msg: 'request completed', res: { statusCode: 200 }, responseTime: 1.2 })
    expect(formatLogLine(incoming, quiet)).toBeNull()
    expect(formatLogLine(ok, quiet)).toBeNull()
    expect(formatLogLine(incoming, { verbose: true, color: false })).toContain('incoming request GET /healthz')
    expect(formatLogLine(ok, { verbose: true, color: false })).toContain('request completed')
  })

  it('shows a failed request as method, path, status and time', () => {
    const failed = line({
      level: 30,
      reqId: 'r2',
      msg: 'request completed',
      req: { method: 'POST', url: '/v1/events' },
      res: { statusCode: 401 },
      responseTime: 3.4,
    })
    expect(formatLogLine(failed, quiet)).toMatch(/INFO {2}POST \/v1\/events → 401 \(3 ms\)$/)
  })

  it('shows an error by its type and message; the stack only when verbose', () => {
    const err = line({
      level: 50,
      msg: 'job failed',
      err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at x' },
    })
    expect(formatLogLine(err, quiet)).toMatch(/ERROR job failed Error: boom$/)
    expect(formatLogLine(err, { verbose: true, color: false })).toContain('at x')
  })

  it('passes other lines through and colours levels in a terminal', () => {
    expect(formatLogLine('nginx: [warn] something', quiet)).toBe('nginx: [warn] something')
    expect(formatLogLine(line({ level: 40, msg: 'slow' }), { verbose: false, color: true })).toContain('\x1b[33mWARN')
  })

  it('names the request of a failed "request completed" from its "incoming request"', () => {
    const format = createLogFormatter(quiet)
    const incoming = line({ level: 30, reqId: 'r9', msg: 'incoming request', req: { method: 'GET', url: '/auth/me' } })
    expect(format(incoming)).toBeNull()
    const done = line({ level: 30, reqId: 'r9', msg: 'request completed', res: { statusCode: 401 }, responseTime: 2 })
    expect(format(done)).toMatch(/GET \/auth\/me → 401 \(2 ms\)$/)
  })
})
