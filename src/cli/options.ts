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
