/**
 * Prints the configuration of every service as Markdown, from the TypeBox schemas that
 * validate it at start-up — so the README's table cannot drift from the code.
 *   pnpm docs:config > /tmp/config.md
 */
import { readFileSync } from 'node:fs'
import { AuthConfigSchema } from '../apps/auth/src/config'
import { GatewayConfig } from '../apps/gateway/src/config'
import { NotifierConfig } from '../apps/notifier/src/config'
import { BaseConfig } from '../packages/service-kit/src/config'

type Prop = {
  default?: unknown
  description?: string
  minimum?: number
  maximum?: number
  anyOf?: { const?: unknown }[]
}

/** The doc comment above each property of a config file, for properties without a `description`. */
function docComments(file: string): Map<string, string> {
  const src = readFileSync(new URL(file, import.meta.url), 'utf8')
  const out = new Map<string, string>()
  // a doc comment never spans another comment's end: `(?:(?!\*\/)[\s\S])*?`
  for (const m of src.matchAll(/\/\*\*((?:(?!\*\/)[\s\S])*?)\*\/\s*\n\s*([A-Z][A-Z0-9_]*):/g)) {
    out.set(m[2] as string, (m[1] as string).replace(/\s*\n\s*\*\s*/g, ' ').trim())
  }
  return out
}

function rows(schema: { properties: Record<string, Prop> }, skip: Set<string>, file: string): string[] {
  const docs = docComments(file)
  return Object.entries(schema.properties)
    .filter(([name]) => !skip.has(name))
    .map(([name, p]) => {
      let dflt = p.default === undefined ? '—' : p.default === '' ? '(empty)' : `\`${String(p.default)}\``
      // a secret's default is a public dev value, used only with HERALD_DEV=1
      if (name.endsWith('_SECRET') && p.default) dflt = `required (HERALD_DEV=1: ${dflt})`
      const allowed = p.anyOf?.map((a) => a.const).filter((c) => c !== undefined)
      const range = allowed?.length ? ` One of ${allowed.map((a) => `\`${a}\``).join(', ')}.` : ''
      const meaning = (p.description ?? docs.get(name) ?? '').replaceAll('|', '\\|')
      return `| \`${name}\` | ${dflt} | ${meaning}${range} |`
    })
}

const base = new Set(Object.keys(BaseConfig.properties))
const out: string[] = []
const table = (title: string, r: string[]) => {
  out.push(`**${title}**`, '', '| variable | default | meaning |', '|---|---|---|', ...r, '')
}
table('Every service', rows(BaseConfig as never, new Set(), '../packages/service-kit/src/config.ts'))
table('auth', rows(AuthConfigSchema as never, base, '../apps/auth/src/config.ts'))
table('gateway', rows(GatewayConfig as never, base, '../apps/gateway/src/config.ts'))
table('notifier (API and worker)', rows(NotifierConfig as never, base, '../apps/notifier/src/config.ts'))
process.stdout.write(out.join('\n'))
