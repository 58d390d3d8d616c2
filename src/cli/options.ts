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

/** What `pacs serve --roles` may list: the three server roles and the web server. */
export const NODE_ROLES = ['main', 'workstation', 'router', 'web'] as const;
export type NodeRole = (typeof NODE_ROLES)[number];

/** `--roles main,router`: a comma-separated, non-empty subset of NODE_ROLES (duplicates ignored). */
export function parseRoles(value: string): NodeRole[] {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (names.length === 0) throw new InvalidArgumentError(`expected one or more of ${NODE_ROLES.join(', ')}, separated by commas`);
  const bad = names.filter((n) => !(NODE_ROLES as readonly string[]).includes(n));
  if (bad.length > 0) {
    throw new InvalidArgumentError(`unknown role${bad.length > 1 ? 's' : ''} ${bad.map((b) => `"${b}"`).join(', ')}: the roles are ${NODE_ROLES.join(', ')}`);
  }
  return NODE_ROLES.filter((r) => names.includes(r));
}
