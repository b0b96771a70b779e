import { type ChildProcess, fork } from 'node:child_process'

interface Reply {
  id: number
  ok: boolean
  result?: unknown
  error?: string
}

/** A load-generator child process driven by request/response messages over IPC. */
export class Generator {
  private seq = 0
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>()
  private readonly child: ChildProcess

  constructor(
    file: string,
    readonly label: string,
  ) {
    this.child = fork(file, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    this.child.on('message', (m: Reply) => {
      const p = this.pending.get(m.id)
      if (!p) return
      this.pending.delete(m.id)
      if (m.ok) p.resolve(m.result)
      else p.reject(new Error(`${label}: ${m.error}`))
    })
    this.child.on('exit', (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`${label} exited (${code})`))
      this.pending.clear()
    })
  }

  get pid(): number {
    return this.child.pid ?? 0
  }

  call<T>(msg: Record<string, unknown>, timeoutMs = 120_000): Promise<T> {
    const id = ++this.seq
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new Error(`${this.label}: ${String(msg.cmd)} timed out after ${timeoutMs} ms`))
      }, timeoutMs)
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer)
          resolve(v as T)
        },
        reject: (e) => {
          clearTimeout(timer)
          reject(e)
        },
      })
      this.child.send({ ...msg, id })
    })
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    const exited = new Promise((r) => this.child.once('exit', r))
    this.child.kill('SIGTERM')
    const t = setTimeout(() => this.child.kill('SIGKILL'), 3000)
    await exited
    clearTimeout(t)
  }
}

/** The child side: answers each request with the handler's result. Exits with its parent. */
export function serve(handler: (msg: Record<string, unknown>) => Promise<unknown>): void {
  process.on('message', (msg: Record<string, unknown>) => {
    handler(msg).then(
      (result) => process.send?.({ id: msg.id, ok: true, result }),
      (err: Error) => process.send?.({ id: msg.id, ok: false, error: err?.stack ?? String(err) }),
    )
  })
  process.on('disconnect', () => process.exit(0))
}

/** How hard a generator worked: its own CPU share and event-loop lag over a window. */
export interface GeneratorHealth {
  cpuPct: number
  lagP99Ms: number
  lagMaxMs: number
}

/** Generators must stay under ~70% of a core and keep their event loop prompt, or their figures are suspect. */
export function generatorLagged(h: GeneratorHealth): boolean {
  return h.cpuPct > 70 || h.lagP99Ms > 30
}
