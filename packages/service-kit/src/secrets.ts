/**
 * What makes a secret acceptable outside dev mode. A secret is any config variable whose
 * name ends in `_SECRET` (a name convention, so every service's schema is covered without
 * marking each one): it must be set explicitly, must not be a known placeholder, and must
 * carry enough entropy that it cannot be guessed.
 */

/** How to make a good one; named in every refusal. */
export const MAKE_SECRET = 'openssl rand -base64 48'

/** Shortest secret accepted outside dev mode (HS256 wants at least 256 bits of key). */
export const MIN_SECRET_LENGTH = 32
/** Estimated entropy (Shannon, over the secret's own characters) accepted outside dev mode. */
export const MIN_SECRET_BITS = 128

/** Fragments of the values example files and docs ship with: never a real secret. */
const PLACEHOLDERS = [/change[-_ ]?me/i, /replace[-_ ]?me/i, /placeholder/i, /example/i, /^dev-/i, /your[-_ ]/i]

export function isSecretName(name: string): boolean {
  return name.endsWith('_SECRET')
}

/** Shannon entropy of the string's characters times its length: a rough upper bound of its bits. */
export function entropyBits(s: string): number {
  const counts = new Map<string, number>()
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1)
  let perChar = 0
  const n = [...s].length
  for (const c of counts.values()) perChar -= (c / n) * Math.log2(c / n)
  return perChar * n
}

/** Why `value` is not acceptable as a production secret, or null when it is. */
export function secretProblem(value: string): string | null {
  if (PLACEHOLDERS.some((p) => p.test(value))) return 'is a placeholder value (from an example or a dev default)'
  if (value.length < MIN_SECRET_LENGTH)
    return `is too short (${value.length} characters; at least ${MIN_SECRET_LENGTH})`
  if (entropyBits(value) < MIN_SECRET_BITS) return `has too little entropy (at least ${MIN_SECRET_BITS} bits)`
  return null
}
