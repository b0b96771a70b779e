import { type ChildProcess, spawn } from 'node:child_process'
import { createWriteStream, existsSync, readdirSync, readFileSync, readlinkSync, type WriteStream } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

export interface ProcSpec {
  name: string
  replica: number
  command: string
  args: string[]
  env: Record<string, string>
  cwd: string
  /** HTTP port answering /readyz, if any */
  port?: number
}

/** Children still running; killed if this process exits without stopping them (no orphans). */
const live = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL')
})

const COLORS = [36, 33, 35, 32, 34, 31, 96, 93, 95, 92]
let colorIndex = 0

/**
 * One child process of the stack. Its output goes either to the terminal, each line
 * prefixed with `name-replica`, or to `<logDir>/<name>-<replica>.log`.
 */
export class Proc {
  child: ChildProcess | null = null
  private out: WriteStream | null = null
  private readonly color = COLORS[colorIndex++ % COLORS.length]
  /** the last lines it printed, for error messages */
  readonly tail: string[] = []
  exitCode: number | null = null
  exitSignal: NodeJS.Signals | null = null

  /**
   * @param logDir write the output to `<logDir>/<label>.log` instead of the terminal
   * @param format turns a line for the terminal (null leaves it out); files get every line as it was
   */
  constructor(
    readonly spec: ProcSpec,
    private readonly logDir: string | null,
    private readonly format: (line: string) => string | null = (line) => line,
  ) {}

  get label(): string {
    return `${this.spec.name}-${this.spec.replica}`
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null
  }

  start(): void {
    const { spec } = this
    this.exitCode = null
    this.exitSignal = null
    this.tail.length = 0
    const child = spawn(spec.command, spec.args, {
      // its own process group: a Ctrl-C at the terminal reaches only the stack, which then
      // stops every service in order (a service must not get the signal twice)
      detached: true,
      cwd: spec.cwd,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    this.child = child
    if (this.logDir) {
      this.out ??= createWriteStream(join(this.logDir, `${this.label}.log`), { flags: 'a' })
    }
    const label = this.label.padEnd(11)
    const prefix = process.stdout.isTTY ? `\x1b[${this.color}m${label}\x1b[0m| ` : `${label}| `
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue
      createInterface({ input: stream }).on('line', (line) => {
        this.tail.push(line)
        if (this.tail.length > 15) this.tail.shift()
        if (this.out) {
          this.out.write(`${line}\n`)
          return
        }
        const shown = this.format(line)
        if (shown !== null) process.stdout.write(`${prefix}${shown}\n`)
      })
    }
    child.on('exit', (code, signal) => {
      this.exitCode = code
      this.exitSignal = signal
      live.delete(child)
    })
    live.add(child)
  }

  /** Sends `signal` and waits for the exit (SIGKILL after `timeoutMs`). Resolves with the ms it took. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<number> {
    const child = this.child
    if (!child || !this.running) return 0
    const t0 = Date.now()
    const exited = new Promise<void>((r) => child.once('exit', () => r()))
    child.kill(signal)
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    await exited
    clearTimeout(timer)
    return Date.now() - t0
  }

  async waitReady(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      if (!this.running)
        throw new Error(
          `${this.label} exited (code ${this.exitCode}, signal ${this.exitSignal}):\n${this.tail.join('\n')}`,
        )
      if (this.spec.port === undefined) {
        // no HTTP port (the worker): alive for a moment is ready enough
        await new Promise((r) => setTimeout(r, 700))
        if (this.running) return
        continue
      }
      try {
        const res = await fetch(`http://127.0.0.1:${this.spec.port}/readyz`, { signal: AbortSignal.timeout(1000) })
        // only its own answer counts: a process that took the port between freePort() and this
        // one's bind (another test's stack) answers /readyz too, and this one then exits EADDRINUSE
        if (res.ok && this.ownsPort()) return
      } catch {}
      await new Promise((r) => setTimeout(r, 100))
    }
    throw new Error(`${this.label} not ready within ${timeoutMs} ms`)
  }

  /**
   * Whether the socket listening on `spec.port` is this child's (Linux: /proc/net/tcp* and the
   * child's open files). Where /proc is missing it cannot tell, and says yes. A child that exited
   * meanwhile (its /proc entry gone) is not the owner.
   */
  private ownsPort(): boolean {
    const pid = this.child?.pid
    // no /proc here: it cannot tell. With /proc, a child whose entry is gone has exited: not it
    if (pid === undefined || this.spec.port === undefined || !existsSync('/proc/self/fd')) return true
    if (!existsSync(`/proc/${pid}/fd`)) return false
    const port = `:${this.spec.port.toString(16).toUpperCase().padStart(4, '0')}`
    const listening = new Set<string>()
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
      if (!existsSync(table)) continue
      for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
        const cols = line.trim().split(/\s+/)
        // local address, state 0A (LISTEN), inode
        if (cols[1]?.endsWith(port) && cols[3] === '0A' && cols[9]) listening.add(cols[9])
      }
    }
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1]
        if (inode && listening.has(inode)) return true
      } catch {}
    }
    return false
  }

  closeLog(): void {
    this.out?.end()
    this.out = null
  }
}
