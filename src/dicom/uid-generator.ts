/** UID generation (PS3.5 9, ISO/IEC 9834-8 '2.25.' UUID-derived UIDs). */
import { randomUUID } from 'node:crypto';

/** The one UID check lives in uids.ts; re-exported for the callers that import it from here. */
export { isValidUid } from './uids.js';

/** A new globally unique UID: '2.25.' + the UUID as an unsigned decimal integer. */
export function newUid(): string {
  return '2.25.' + BigInt('0x' + randomUUID().replace(/-/g, '')).toString(10);
}
