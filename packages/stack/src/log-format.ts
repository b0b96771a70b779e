/**
 * The local stack's terminal: each service's pino JSON line as one readable, coloured line.
 * By default Fastify's per-request lines are left out (a completed request still shows when
 * it failed, 4xx or 5xx); `verbose` keeps every line. Lines that are not JSON (nginx, a
 * crash) pass through as they are.
 */
export interface LogFormatOptions {
  verbose: boolean
  color: boolean
}

const LEVELS: Record<number, { name: string; color: number }> = {
  10: { name: 'TRACE', color: 90 },
  20: { name: 'DEBUG', color: 90 },
  30: { name: 'INFO', color: 32 },
  40: { name: 'WARN', color: 33 },
  50: { name: 'ERROR', color: 31 },
  60: { name: 'FATAL', color: 35 },
}

/** Fields every line has, or that the prefix already says. */
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'service', 'replica', 'msg', 'reqId', 'v'])

interface PinoLine {
  level?: number
  time?: number
  msg?: string
  req?: { method?: string; url?: string }
  res?: { statusCode?: number }
  responseTime?: number
  err?: { type?: string; message?: string; stack?: string }
  [key: string]: unknown
}

function parse(line: string): PinoLine | null {
  if (!line.startsWith('{')) return null
  try {
    const v = JSON.parse(line) as unknown
    return v && typeof v === 'object' && typeof (v as PinoLine).level === 'number' ? (v as PinoLine) : null
  } catch {
    return null
  }
}

function value(v: unknown): string {
  if (typeof v === 'string') return /^[\w.:/@+-]+$/.test(v) ? v : JSON.stringify(v)
  return JSON.stringify(v)
}

/**
 * A formatter for one process's lines. Fastify logs a request's method and path on
 * "incoming request" only: they are kept by request id (the last 1,000) so that a failed
 * "request completed" can say which request it was.
 */
export function createLogFormatter(opts: LogFormatOptions): (line: string) => string | null {
  const requests = new Map<string, { method?: string; url?: string }>()
  return (line) => {
    const log = parse(line)
    if (!log) return line
    const id = typeof log.reqId === 'string' ? log.reqId : undefined
    if (id && log.msg === 'incoming request' && log.req) {
      requests.set(id, log.req)
      if (requests.size > 1000) requests.delete(requests.keys().next().value as string)
    } else if (id && log.msg === 'request completed') {
      log.req ??= requests.get(id)
      requests.delete(id)
    }
    return formatLog(log, opts)
  }
}

/** The line to print, or null to leave it out (without the request of a "request completed" line). */
export function formatLogLine(line: string, opts: LogFormatOptions): string | null {
  const log = parse(line)
  return log ? formatLog(log, opts) : line
}

function formatLog(log: PinoLine, opts: LogFormatOptions): string | null {
  const paint = (code: number, s: string) => (opts.color ? `\x1b[${code}m${s}\x1b[0m` : s)
  const status = log.res?.statusCode
  if (log.msg === 'incoming request' && !opts.verbose) return null
  if (log.msg === 'request completed' && !opts.verbose && (status === undefined || status < 400)) return null

  const level = LEVELS[log.level ?? 30] ?? { name: String(log.level), color: 0 }
  const time = new Date(log.time ?? Date.now()).toTimeString().slice(0, 8)
  let msg = log.msg ?? ''
  const rest: string[] = []
  if (log.msg === 'request completed' && log.req) {
    // "request completed" alone says nothing: say which, how it ended and how long it took
    msg = `${log.req.method} ${log.req.url} → ${status} (${Math.round(log.responseTime ?? 0)} ms)`
  } else if (log.req && opts.verbose) {
    rest.push(`${log.req.method} ${log.req.url}`)
  }
  for (const [k, v] of Object.entries(log)) {
    if (HIDDEN.has(k) || k === 'req' || k === 'res' || k === 'responseTime' || v === undefined) continue
    if (k === 'err' && log.err) {
      rest.push(`${paint(31, `${log.err.type ?? 'Error'}: ${log.err.message ?? ''}`)}`)
      if (opts.verbose && log.err.stack) rest.push(`\n${log.err.stack}`)
      continue
    }
    rest.push(`${paint(90, `${k}=`)}${value(v)}`)
  }
  return [paint(90, time), paint(level.color, level.name.padEnd(5)), msg, ...rest].filter(Boolean).join(' ')
}
