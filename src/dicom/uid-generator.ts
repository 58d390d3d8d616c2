/** UID generation (PS3.5 9, ISO/IEC 9834-8 '2.25.' UUID-derived UIDs) and validation. */
import { randomUUID } from 'node:crypto';

/** A new globally unique UID: '2.25.' + the UUID as an unsigned decimal integer. */
export function newUid(): string {
  return '2.25.' + BigInt('0x' + randomUUID().replace(/-/g, '')).toString(10);
}

/** PS3.5 9.1: <= 64 chars, dot-separated numeric components, no leading zeros (except '0'). */
export function isValidUid(s: string): boolean {
  if (s.length === 0 || s.length > 64) return false;
  return s.split('.').every((c) => /^(0|[1-9][0-9]*)$/.test(c));
}
