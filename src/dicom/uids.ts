/** UID dictionary (PS3.6 Annex A): names, SOP classes, storage SOP classes. */
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
