/** UIDs: the dictionary (PS3.6 Annex A: names, SOP classes, storage SOP classes) and the syntax check (PS3.5 9.1). */
import { STORAGE_SOP_CLASS_UIDS, UID_ROWS } from './generated/uid-data.js';

export { STORAGE_SOP_CLASS_UIDS };

export interface UidInfo {
  uid: string;
  name: string;
  /** 'SOP Class', 'Transfer Syntax', 'Meta SOP Class', 'Well-known frame of reference', ... */
  type: string;
  keyword: string;
  retired: boolean;
}

const byUid = new Map<string, UidInfo>();
const byKeyword = new Map<string, UidInfo>();
for (const [uid, name, type, retired, keyword] of UID_ROWS) {
  const info: UidInfo = { uid, name, type, keyword, retired: retired === 1 };
  byUid.set(uid, info);
  if (keyword) byKeyword.set(keyword, info);
}
const storageSet = new Set(STORAGE_SOP_CLASS_UIDS);

/** Registered name of a UID ('CT Image Storage'), or undefined. */
export function uidName(uid: string): string | undefined {
  return byUid.get(uid)?.name;
}
export function uidInfo(uid: string): UidInfo | undefined {
  return byUid.get(uid);
}
export function uidByKeyword(keyword: string): string | undefined {
  return byKeyword.get(keyword)?.uid;
}
export function isStorageSopClass(uid: string): boolean {
  return storageSet.has(uid);
}
/** All SOP classes (type 'SOP Class'), retired included. */
export const SOP_CLASS_UIDS: readonly string[] = UID_ROWS.filter((r) => r[2] === 'SOP Class').map((r) => r[0]);

/** Longest UID (PS3.5 9.1). */
export const MAX_UID_LENGTH = 64;

/**
 * Why `s` is not a UID, or undefined when it is one. The one check for every UID that
 * enters the archive (C-STORE, STOW-RS, worklist, MPPS, REST paths and bodies): 1-64
 * characters, components of digits separated by single dots (PS3.5 9.1). These UIDs end
 * up in file names' hashes, SQL parameters, DICOM JSON, URLs and HTTP headers, so the
 * alphabet is what makes them safe there.
 *
 * Leading zeros in a component ("1.2.040.5") break PS3.5 9.1 but are tolerated: devices in
 * the field send them (date- or counter-based generators), refusing them would refuse
 * patient data for a cosmetic fault, and they are as harmless as any other digits.
 * Linear in the length, no regular expression; the length is checked first.
 */
export function uidProblem(s: string): string | undefined {
  if (s.length === 0) return 'is empty';
  if (s.length > MAX_UID_LENGTH) return `is longer than ${MAX_UID_LENGTH} characters`;
  let digits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      digits++;
    } else if (c === 0x2e) {
      if (digits === 0) return i === 0 ? 'starts with a dot' : 'has an empty component (two dots)';
      digits = 0;
    } else {
      return 'may hold only digits and dots';
    }
  }
  return digits === 0 ? 'ends with a dot' : undefined;
}

/** True when `s` is a UID as uidProblem() defines it. */
export function isValidUid(s: string): boolean {
  return uidProblem(s) === undefined;
}

/** `value` quoted for a message (JSON string syntax, control characters escaped), cut to `max` characters. */
export function quoteValue(value: string, max = 24): string {
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}...` : value);
}
