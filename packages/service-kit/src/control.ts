import type { StreamEntry } from '@herald/contracts'
import type { Keys } from '@herald/keys'
import type { ChainableCommander, Redis } from 'ioredis'

/** Field/value list of a delivery-stream entry, in the order gateways read them (k first). */
export function streamFields(entry: StreamEntry): string[] {
  const out: string[] = ['k', entry.k]
  if ('u' in entry) out.push('u', entry.u)
  if ('s' in entry && entry.s) out.push('s', entry.s)
  if ('o' in entry && entry.o) out.push('o', entry.o)
  out.push('p', entry.p)
  return out
}

/**
 * The one writer of control and read-sync entries on the delivery stream (any service may
 * use it; only the notifier writes messages, through @herald/inbox). Trimmed approximately
 * to `maxLen` entries so Redis memory stays bounded.
 */
export class StreamWriter {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly maxLen: number,
  ) {}

  async append(entry: StreamEntry): Promise<string> {
    const id = await this.redis.xadd(this.keys.stream(), 'MAXLEN', '~', this.maxLen, '*', ...streamFields(entry))
    return id as string
  }

  /** Adds the entry to a pipeline/multi the caller executes. */
  appendTo(pipe: ChainableCommander, entry: StreamEntry): ChainableCommander {
    return pipe.xadd(this.keys.stream(), 'MAXLEN', '~', this.maxLen, '*', ...streamFields(entry))
  }
}
