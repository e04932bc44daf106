/**
 * Where a sign-in may send the browser afterwards: a path on this origin only. Browsers treat
 * `//host`, `/\host` and `\\host` as other origins, and strip tabs and newlines before parsing,
 * so those are refused along with anything carrying a scheme.
 */
export function isSafeReturnTo(value: string): boolean {
  if (!value.startsWith("/") || value.length > 2048) return false;
  if (/[\u0000-\u001f\u007f\\]/.test(value)) return false;
  if (value.startsWith("//")) return false;
  try {
    const base = "https://octoplex.invalid";
    return new URL(value, base).origin === base;
  } catch {
    return false;
  }
}
