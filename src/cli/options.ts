/** Option parsing shared by the commands. */
import { InvalidArgumentError } from 'commander';

/** DCMTK spells some long options with one dash (-aet, -aec, -aem); accept both. */
export function normalizeArgv(argv: string[]): string[] {
  return argv.map((a) => (/^-(aet|aec|aem)$/.test(a) ? `-${a}` : a));
}

export function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError(`port must be an integer from 1 to 65535, got "${value}"`);
  return n;
}

export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  return n;
}

/**
 * AE titles per PS3.5 (1-16 characters of the default repertoire, no backslash or
 * control characters); embedded spaces are refused too, as DESIGN.md says.
 */
export function parseAeTitle(value: string): string {
  const v = value.trim();
  if (v.length === 0 || v.length > 16) throw new InvalidArgumentError(`AE title must be 1 to 16 characters, got ${v.length}`);
  if (/[\\\x00-\x1f\x7f]/.test(v)) throw new InvalidArgumentError('AE title may not contain a backslash or control characters');
  if (v.includes(' ')) throw new InvalidArgumentError('AE title may not contain spaces (leading and trailing ones are ignored)');
  if (!/^[\x20-\x7e]+$/.test(v)) throw new InvalidArgumentError('AE title must use the default character repertoire (printable ASCII)');
  return v;
}
