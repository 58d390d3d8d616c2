/** Option parsing shared by the commands. */
import { InvalidArgumentError } from 'commander';
import { aeTitleProblem } from '../config/ae-title.js';

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
  const problem = aeTitleProblem(value);
  if (problem) throw new InvalidArgumentError(problem);
  return value.trim();
}
