/** Data element dictionary (PS3.6 section 6), built at load from the generated rows. */
import { privateVr } from './private-dictionary.js';
import { DICTIONARY_ROWS } from './generated/dictionary-data.js';
import type { VR } from './vr.js';

export interface DictionaryEntry {
  tag: number;
  /** The VR to use when none is encoded (implicit VR); for multi-VR entries the usual one. */
  vr: VR;
  /** All VRs the standard allows ('OB or OW' -> ['OB','OW']). */
  vrs: readonly VR[];
  vm: string;
  keyword: string;
  /** Human-readable name, derived from the keyword. */
  name: string;
  retired: boolean;
  /** True for repeating-group entries (50xx, 60xx, 7Fxx). */
  repeating: boolean;
}

// dcmjs VR codes for entries with several VRs.
const MULTI_VR: Record<string, readonly VR[]> = {
  ox: ['OW', 'OB'],
  xs: ['US', 'SS'],
  lt: ['OW', 'US'],
  up: ['UL'],
  na: ['UN'],
};

const byTag = new Map<number, DictionaryEntry>();
const byKeyword = new Map<string, DictionaryEntry>();

function humanName(keyword: string): string {
  return keyword.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/([A-Z])([A-Z][a-z])/g, '$1 $2');
}

for (const [hex, vrCode, vm, keyword, retired] of DICTIONARY_ROWS) {
  const repeating = hex.includes('x');
  const tag = parseInt(hex.replace(/x/g, '0'), 16) >>> 0;
  const vrs = MULTI_VR[vrCode] ?? [vrCode as VR];
  const entry: DictionaryEntry = {
    tag,
    vr: vrs[0],
    vrs,
    vm,
    keyword,
    name: humanName(keyword),
    retired: retired === 1,
    repeating,
  };
  byTag.set(tag, entry);
  if (!byKeyword.has(keyword)) byKeyword.set(keyword, entry);
}

/** Base group for repeating groups 50xx/60xx/7Fxx (even groups base..base+0x1E). */
function repeatingBase(group: number): number | undefined {
  const base = group & 0xff00;
  if ((base === 0x5000 || base === 0x6000 || base === 0x7f00) && (group & 0xff) <= 0x1e && group % 2 === 0) {
    return base;
  }
  return undefined;
}

/** Standard dictionary entry of a tag, repeating groups resolved; undefined if private or unknown. */
export function lookupTag(tag: number): DictionaryEntry | undefined {
  const e = byTag.get(tag);
  if (e) return e.repeating && tag >>> 16 !== e.tag >>> 16 ? undefined : e;
  const group = tag >>> 16;
  const base = repeatingBase(group);
  if (base !== undefined && base !== group) {
    const r = byTag.get((base * 0x10000 + (tag & 0xffff)) >>> 0);
    if (r?.repeating) return { ...r, tag };
  }
  return undefined;
}

export function keywordToTag(keyword: string): number | undefined {
  return byKeyword.get(keyword)?.tag;
}
export function lookupKeyword(keyword: string): DictionaryEntry | undefined {
  return byKeyword.get(keyword);
}

/**
 * The VR of an element whose VR is not encoded (implicit VR) or unknown:
 * group length (gggg,0000) -> UL; private creator (odd gggg,0010-00FF) -> LO;
 * other private -> the private dictionary's VR for its creator (private-dictionary.ts), else UN;
 * unknown public -> UN; else the dictionary VR ('US or SS' entries give SS
 * when `signedPixels`, i.e. Pixel Representation is 1, as DCMTK does).
 */
export function implicitVr(tag: number, signedPixels = false, privateCreator?: string): VR {
  if ((tag & 0xffff) === 0) return 'UL';
  const group = tag >>> 16;
  if (group % 2 === 1) {
    const el = tag & 0xffff;
    if (el >= 0x10 && el <= 0xff) return 'LO';
    return (privateCreator !== undefined ? privateVr(tag, privateCreator) : undefined) ?? 'UN';
  }
  const e = lookupTag(tag);
  if (!e) return 'UN';
  return signedPixels && e.vrs.length === 2 && e.vrs[1] === 'SS' ? 'SS' : e.vr;
}

export const dictionarySize = (): number => byTag.size;
