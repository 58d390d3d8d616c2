/**
 * The in-memory dataset: elements by tag, raw value bytes (multi-byte binary values in
 * little endian whatever the transfer syntax), items of sequences, fragments of
 * encapsulated pixel data. Values longer than the reader's bulk threshold are not kept
 * (`skipped`), only their length and position.
 */
import { decodeText } from './charset.js';
import { Tags } from './tag.js';
import { VR_INFO, type VR } from './vr.js';

export const UNDEFINED_LENGTH = 0xffffffff;

export interface Fragment {
  /** Byte length of the fragment. */
  length: number;
  /** Offset of the fragment's value in the (inflated) dataset stream. */
  offset: number;
  /** The bytes, unless longer than the bulk threshold. */
  value?: Uint8Array;
}

export interface Element {
  tag: number;
  vr: VR;
  /** Value length as encoded; UNDEFINED_LENGTH for undefined-length sequences / pixel data. */
  length: number;
  /** Raw value bytes (little endian for multi-byte binary VRs); absent for SQ, fragments, skipped values. */
  value?: Uint8Array;
  /** Items of a sequence. */
  items?: Dataset[];
  /** Encapsulated pixel data: fragments[0] is the Basic Offset Table (possibly empty). */
  fragments?: Fragment[];
  /** The value was longer than the bulk threshold (or after the stop point) and was skipped. */
  skipped?: boolean;
  /** Offset of the value in the (inflated) dataset stream, where known. */
  valueOffset?: number;
}

/** Elements by tag, in the order read (ascending in valid files). Items know their parent. */
export class Dataset extends Map<number, Element> {
  /** The enclosing dataset for sequence items (for the inherited Specific Character Set). */
  declare readonly parent: Dataset | undefined;

  constructor(parent?: Dataset) {
    super();
    Object.defineProperty(this, 'parent', { value: parent, enumerable: false, writable: true });
  }

  /** Adds or replaces an element. */
  put(el: Element): this {
    return this.set(el.tag, el);
  }

  /** Specific Character Set terms in effect here (own, else inherited; [] = default repertoire). Not to be changed. */
  characterSets(): readonly string[] {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the walk up the parents starts here
    for (let d: Dataset | undefined = this; d; d = d.parent) {
      const el = d.get(Tags.SpecificCharacterSet);
      if (el?.value) return charsetTerms(el.value);
    }
    return NO_TERMS;
  }

  /** Elements sorted by tag. */
  sorted(): Element[] {
    return [...this.values()].sort((a, b) => a.tag - b.tag);
  }
}

const NO_TERMS: readonly string[] = Object.freeze([]);

/**
 * The terms of a Specific Character Set value, decoded once per value (the last one is
 * kept): each string value of a header with a character set asks for them again, and
 * decoding them each time was most of a DICOM JSON row's cost per such value (issue 16).
 */
let termsOf: { value: Uint8Array; bytes: string; terms: readonly string[] } | undefined;
function charsetTerms(value: Uint8Array): readonly string[] {
  if (termsOf?.value === value) return termsOf.terms;
  const bytes = latin1(value);
  if (termsOf?.bytes !== bytes) {
    termsOf = {
      value,
      bytes,
      terms: Object.freeze(bytes.split('\\').map((s) => s.trim())),
    };
  } else {
    termsOf.value = value;
  }
  return termsOf.terms;
}

// ---- accessors ----

const TEXT_VRS = new Set<VR>(['ST', 'LT', 'UT', 'UR']); // single-valued, backslash is data
const LEADING_INSIGNIFICANT = new Set<VR>(['AE', 'CS', 'DS', 'IS', 'SH', 'LO', 'UI', 'AS', 'DA', 'TM', 'DT']);

function trimValue(s: string, vr: VR): string {
  // Trailing spaces (and NUL padding, as seen in UIs) are insignificant; leading ones for some VRs.
  // A loop, not two regular expressions: this runs for every value of every received header (issue 16).
  let end = s.length;
  while (end > 0 && (s.charCodeAt(end - 1) === 0x20 || s.charCodeAt(end - 1) === 0)) end--;
  let start = 0;
  if (LEADING_INSIGNIFICANT.has(vr)) while (start < end && s.charCodeAt(start) === 0x20) start++;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/** One decoder for the default repertoire's VRs (IS, DS, CS): making one per value cost more than the decoding. */
const LATIN1 = new TextDecoder('latin1');
const latin1 = (value: Uint8Array): string => LATIN1.decode(value);

/** All values of a string element decoded and trimmed; binary numeric VRs give their numbers as text. */
export function getStrings(ds: Dataset, tag: number): string[] | undefined {
  const el = ds.get(tag);
  if (!el || !el.value) return undefined;
  const info = VR_INFO[el.vr];
  if (info.kind !== 'string') {
    if (el.vr === 'AT') return decodeAt(el.value);
    const nums = decodeBinaryNumbers(el.value, el.vr);
    return nums?.map(String);
  }
  return stringValues(ds, el as Element & { value: Uint8Array });
}

/**
 * The values of `el`, an element of `ds` with a string VR and a value: decoded with the
 * character set in effect there and trimmed (getStrings without the look-up).
 */
export function stringValues(ds: Dataset, el: Element & { value: Uint8Array }): string[] {
  const vr = el.vr;
  const text = decodeText(el.value, vr, VR_INFO[vr].charset ? ds.characterSets() : NO_TERMS);
  // One value without a split (most values of a header are one).
  if (TEXT_VRS.has(vr) || text.indexOf('\\') < 0) return [trimValue(text, vr)];
  return text.split('\\').map((v) => trimValue(v, vr));
}

/** The value of a string element (multiple values joined with '\'), decoded with the Specific Character Set. */
export function getString(ds: Dataset, tag: number): string | undefined {
  const v = getStrings(ds, tag);
  return v === undefined ? undefined : v.join('\\');
}

/** Numbers of a US/UL/SS/SL/FL/FD/SV/UV (bigints become numbers) or IS/DS element. */
export function getNumbers(ds: Dataset, tag: number): number[] | undefined {
  const el = ds.get(tag);
  if (!el || !el.value) return undefined;
  if (el.vr === 'IS' || el.vr === 'DS') {
    const parts = latin1(el.value)
      .split('\\')
      .map((s) => s.trim());
    if (parts.length === 1 && parts[0] === '') return [];
    return parts.map(Number);
  }
  return decodeBinaryNumbers(el.value, el.vr);
}

/** The first number of an element (see getNumbers). */
export function getNumber(ds: Dataset, tag: number): number | undefined {
  const v = getNumbers(ds, tag);
  return v && v.length > 0 && !Number.isNaN(v[0]) ? v[0] : undefined;
}

export function decodeBinaryNumbers(value: Uint8Array, vr: VR): number[] | undefined {
  // A switch, not a table of closures made on every call: this runs for every binary value
  // of every received header (issue 16).
  const dv = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const n = value.byteLength;
  const out: number[] = [];
  switch (vr) {
    case 'US':
    case 'OW':
      for (let o = 0; o + 2 <= n; o += 2) out.push(dv.getUint16(o, true));
      break;
    case 'SS':
      for (let o = 0; o + 2 <= n; o += 2) out.push(dv.getInt16(o, true));
      break;
    case 'UL':
    case 'OL':
      for (let o = 0; o + 4 <= n; o += 4) out.push(dv.getUint32(o, true));
      break;
    case 'SL':
      for (let o = 0; o + 4 <= n; o += 4) out.push(dv.getInt32(o, true));
      break;
    case 'FL':
    case 'OF':
      for (let o = 0; o + 4 <= n; o += 4) out.push(dv.getFloat32(o, true));
      break;
    case 'FD':
    case 'OD':
      for (let o = 0; o + 8 <= n; o += 8) out.push(dv.getFloat64(o, true));
      break;
    case 'SV':
      for (let o = 0; o + 8 <= n; o += 8) out.push(Number(dv.getBigInt64(o, true)));
      break;
    case 'UV':
      for (let o = 0; o + 8 <= n; o += 8) out.push(Number(dv.getBigUint64(o, true)));
      break;
    case 'OB':
      for (let o = 0; o < n; o++) out.push(dv.getUint8(o));
      break;
    default:
      return undefined;
  }
  return out;
}

/** AT values as 'GGGGEEEE' hex strings. */
export function decodeAt(value: Uint8Array): string[] {
  const dv = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const out: string[] = [];
  for (let o = 0; o + 4 <= value.byteLength; o += 4) {
    const g = dv.getUint16(o, true),
      e = dv.getUint16(o + 2, true);
    out.push(g.toString(16).toUpperCase().padStart(4, '0') + e.toString(16).toUpperCase().padStart(4, '0'));
  }
  return out;
}
