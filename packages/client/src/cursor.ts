/** Cursors are decimal strings that only grow; longer means larger (no leading zeros). */
export function cursorAfter(a: string, b: string | undefined): boolean {
  if (b === undefined) return true
  if (a.length !== b.length) return a.length > b.length
  return a > b
}
