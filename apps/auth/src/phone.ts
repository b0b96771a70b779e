import { type CountryCode, type NumberType, ParseError, parsePhoneNumberWithError } from 'libphonenumber-js/max'
import { AuthErrors } from './errors'

export interface Phone {
  /** E.164, e.g. +8613812345678 */
  e164: string
  /** ISO country, undefined for non-geographic numbers */
  country: string | undefined
}

/** Number types that can receive an SMS; premium-rate, toll-free and fixed lines are refused (SMS pumping). */
const SMS_CAPABLE = new Set<NumberType>(['MOBILE', 'FIXED_LINE_OR_MOBILE', 'PERSONAL_NUMBER'])

/**
 * Validates a phone number and normalises it to E.164; a number without `+` is read in `region`.
 * Throws INVALID_PHONE for anything that is not a valid SMS-capable number.
 */
export function normalizePhone(input: string, region: string): Phone {
  let parsed: ReturnType<typeof parsePhoneNumberWithError>
  try {
    parsed = parsePhoneNumberWithError(input, { defaultCountry: region as CountryCode })
  } catch (err) {
    if (err instanceof ParseError) throw new AuthErrors.InvalidPhone()
    throw err
  }
  const type = parsed.getType()
  if (!parsed.isValid() || !type || !SMS_CAPABLE.has(type)) throw new AuthErrors.InvalidPhone()
  return { e164: parsed.number, country: parsed.country }
}

/** Throws COUNTRY_NOT_ALLOWED unless the allowlist is empty or holds the phone's country. */
export function assertCountryAllowed(phone: Phone, allowed: readonly string[]): void {
  if (allowed.length === 0) return
  if (!phone.country || !allowed.includes(phone.country)) throw new AuthErrors.CountryNotAllowed()
}

/** `+8613812345678` → `+86138****5678`: what pages show. */
export function maskPhone(e164: string): string {
  try {
    const p = parsePhoneNumberWithError(e164)
    const n = p.nationalNumber as string
    const head = n.length >= 8 ? n.slice(0, 3) : n.slice(0, 1)
    const tail = n.slice(-Math.min(4, Math.max(1, n.length - head.length - 1)))
    return `+${p.countryCallingCode}${head}****${tail}`
  } catch {
    return `${e164.slice(0, 4)}****${e164.slice(-4)}`
  }
}

/** The nickname a new user starts with: `user-` and the last four digits. */
export function defaultNickname(e164: string): string {
  return `user-${e164.slice(-4)}`
}
