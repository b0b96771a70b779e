import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { CloseCode, ErrorCode } from '../src/index'
import { protocolTables, renderProtocolDoc, sameMarkdown } from '../src/protocol-docs'

const doc = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8')

describe('docs/protocol.md', () => {
  it('carries the frames, close codes and error codes of the contracts (run `pnpm -s docs:protocol` when this fails)', () => {
    expect(sameMarkdown(renderProtocolDoc(doc), doc)).toBe(true)
  })

  it('names every close code and error code, and every frame type', () => {
    const tables = protocolTables()
    for (const code of Object.values(CloseCode)) expect(tables['close-codes']).toContain(`| ${code} |`)
    for (const code of Object.values(ErrorCode)) expect(tables['error-codes']).toContain(`\`${code}\``)
    for (const type of ['welcome', 'message', 'read', 'error', 'ack'])
      expect(tables.frames).toContain(`| \`${type}\` |`)
  })
})
