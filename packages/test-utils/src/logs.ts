import { Writable } from 'node:stream'

/** A pino destination that keeps every line, so tests can assert that no secret was logged. */
export function captureLogs() {
  const lines: string[] = []
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(line)
      cb()
    },
  })
  return {
    stream,
    lines,
    text: () => lines.join('\n'),
    /** true when any line contains any of the given secrets */
    containsAny: (secrets: string[]) => secrets.filter((s) => s && lines.some((l) => l.includes(s))),
  }
}
