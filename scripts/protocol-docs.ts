/**
 * Regenerates the tables of docs/protocol.md (frames, close codes, error codes) from
 * packages/contracts:   pnpm -s docs:protocol
 * packages/contracts/test/protocol-docs.test.ts fails while the file is stale.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { renderProtocolDoc, sameMarkdown } from '../packages/contracts/src/protocol-docs'

const file = new URL('../docs/protocol.md', import.meta.url)
const before = readFileSync(file, 'utf8')
const after = renderProtocolDoc(before)
if (sameMarkdown(after, before)) {
  console.log('docs/protocol.md is up to date')
} else {
  writeFileSync(file, after)
  // the repository's Markdown is formatted by Biome (padded tables)
  execFileSync('pnpm', ['exec', 'biome', 'format', '--write', fileURLToPath(file)], { stdio: 'ignore' })
  console.log('docs/protocol.md regenerated')
}
