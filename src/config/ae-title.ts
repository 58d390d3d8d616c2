// The AE title rule (PS3.5 6.2, VR AE) without the registry schema, so the command line's
// option parsers check a title without loading zod.
/**
 * Why an AE title is not valid, or undefined. PS3.5 AE: 1-16 characters of the default
 * repertoire, no backslash or control characters; leading/trailing spaces are not
 * significant; embedded spaces refused (DESIGN.md section 1).
 */
export function aeTitleProblem(value: string): string | undefined {
  const v = value.trim();
  if (v.length === 0 || v.length > 16) return `AE title must be 1 to 16 characters, got ${v.length}`;
  if (/[\\\x00-\x1f\x7f]/.test(v)) return 'AE title may not contain a backslash or control characters';
  if (v.includes(' ')) return 'AE title may not contain spaces (leading and trailing ones are ignored)';
  if (!/^[\x20-\x7e]+$/.test(v)) return 'AE title must use the default character repertoire (printable ASCII)';
  return undefined;
}
