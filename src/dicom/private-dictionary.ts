/**
 * VRs of private data elements by private creator (DCMTK's private.dic, generated into
 * ./generated/private-dictionary-data.ts), for elements whose VR is not encoded: an
 * Implicit VR private element would otherwise be UN, and converting it to Explicit VR
 * would write Siemens' CSA headers (0029,xx10) as UN where DCMTK writes OB.
 *
 * Lookup as DCMTK does: an entry naming the element exactly (four hex digits, a fixed
 * block) first, then one naming its low byte (any block the creator reserved).
 */
import { PRIVATE_DICTIONARY_ROWS } from './generated/private-dictionary-data.js';
import { PRIVATE_DICTIONARY_NAMES } from './generated/private-dictionary-names.js';
import type { VR } from './vr.js';

let byKey: Map<string, VR> | undefined;

const key = (group: number, creator: string, element: string): string => `${group.toString(16).padStart(4, '0')}|${creator}|${element}`;

function table(): Map<string, VR> {
  if (byKey) return byKey;
  byKey = new Map();
  for (const [from, to, creator, element, vr] of PRIVATE_DICTIONARY_ROWS) {
    const first = parseInt(from, 16);
    const last = parseInt(to, 16);
    // A range (gggg-o-hhhh) covers the odd groups from first to last.
    for (let g = first; g <= last; g += first === last ? 1 : 2) byKey.set(key(g, creator, element), vr as VR);
  }
  return byKey;
}

/** The VR of private data element `tag` (odd group, element 0x1000-0xFFFF) reserved by `creator`, or undefined. */
export function privateVr(tag: number, creator: string): VR | undefined {
  const group = tag >>> 16;
  const element = tag & 0xffff;
  const t = table();
  return t.get(key(group, creator, element.toString(16).padStart(4, '0'))) ?? t.get(key(group, creator, (element & 0xff).toString(16).padStart(2, '0')));
}

/** The tag of the Private Creator element that reserves the block of private data element `tag`. */
export function privateCreatorTag(tag: number): number | undefined {
  const group = tag >>> 16;
  const element = tag & 0xffff;
  if (group % 2 === 0 || element < 0x1000) return undefined;
  return ((group << 16) | (element >>> 8)) >>> 0;
}

let namesByKey: Map<string, string> | undefined;

/**
 * The name DCMTK's private dictionary gives private data element `tag` reserved by
 * `creator` (the tag browser's), or undefined; looked up as privateVr is.
 */
export function privateName(tag: number, creator: string): string | undefined {
  if (!namesByKey) {
    namesByKey = new Map();
    for (const [from, to, c, element, name] of PRIVATE_DICTIONARY_NAMES) {
      const first = parseInt(from, 16);
      const last = parseInt(to, 16);
      for (let g = first; g <= last; g += first === last ? 1 : 2) namesByKey.set(key(g, c, element), name);
    }
  }
  const group = tag >>> 16;
  const element = tag & 0xffff;
  return (
    namesByKey.get(key(group, creator, element.toString(16).padStart(4, '0'))) ??
    namesByKey.get(key(group, creator, (element & 0xff).toString(16).padStart(2, '0')))
  );
}
