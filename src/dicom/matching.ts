/**
 * Attribute matching for C-FIND (PS3.4 C.2.2.2): single value, universal, wildcard,
 * list of UIDs, range (DA, TM, DT; open and closed), sequence and empty value matching.
 *
 * Pure functions. A query key is compiled once (`compileKeys`) and then tested against
 * any `MatchTarget` (a Dataset, a DICOM JSON object, or the index's rows). Person names
 * match case-insensitively by default (`caseInsensitivePersonNames`), against the whole
 * value or any one of its component groups (alphabetic, ideographic, phonetic); trailing
 * empty components are insignificant. A multi-valued attribute matches when any one of
 * its values does; a multi-valued key (other than a UID list) matches when any of its
 * values does. Time zone offsets of DT values are ignored.
 *
 * Keys and stored values come from the network: nothing here may take more than linear
 * (wildcards: key x value) time in them, so wildcards are matched by wildcard.ts, never by
 * a regular expression, and no regular expression here can retry a run from each start.
 */
import { type Dataset, getStrings } from './dataset.js';
import type { DicomJsonObject, DicomJsonPersonName } from './dataset-json.js';
import { lookupTag } from './dictionary.js';
import { formatTag, tagToHex } from './tag.js';
import type { VR } from './vr.js';
import { compileWildcard, matchWildcard, type Wildcard } from './wildcard.js';

/** Where a compiled key looks for values: a dataset, a JSON object, index columns... */
export interface MatchTarget {
  /** The attribute's values as trimmed strings ([] = present but empty), or undefined when absent. */
  values(tag: number): readonly string[] | undefined;
  /** The items of a sequence attribute, or undefined when absent. */
  items(tag: number): readonly MatchTarget[] | undefined;
}

export type Matcher =
  | { kind: 'universal' }
  | { kind: 'empty' }
  | { kind: 'single'; values: string[] }
  | { kind: 'wildcard'; patterns: string[]; wildcards: Wildcard[] }
  | { kind: 'uids'; uids: string[] }
  | { kind: 'range'; ranges: Range[] }
  | { kind: 'numbers'; numbers: number[] }
  | { kind: 'sequence'; keys: QueryKey[] };

/** Inclusive bounds as normalized comparable strings; undefined = open end. */
export interface Range {
  /** The key's own text of each bound (for SQL on columns that hold full-precision values). */
  from?: string;
  to?: string;
  lower?: string;
  upper?: string;
}

export interface QueryKey {
  tag: number;
  vr: VR;
  matcher: Matcher;
  /** For a sequence key: the sub-keys to return (also its matcher's keys). */
  items?: QueryKey[];
}

export interface MatchOptions {
  /** Person names (PN) match ignoring case (default true). */
  caseInsensitivePersonNames?: boolean;
}

/** A key whose value cannot be used for matching (e.g. a malformed date range). */
export class InvalidQueryKeyError extends Error {
  override readonly name = 'InvalidQueryKeyError';
  constructor(
    readonly tag: number,
    message: string,
  ) {
    // Short: it becomes a DIMSE Error Comment, at most 64 characters.
    super(`${lookupTag(tag)?.keyword ?? formatTag(tag)}: ${message}`);
  }
}

const WILDCARD_VRS = new Set<VR>(['AE', 'CS', 'LO', 'LT', 'PN', 'SH', 'ST', 'UC', 'UR', 'UT']);
const RANGE_VRS = new Set<VR>(['DA', 'TM', 'DT']);
const NUMBER_VRS = new Set<VR>(['IS', 'DS', 'US', 'SS', 'UL', 'SL', 'FL', 'FD', 'SV', 'UV']);

// Templates that complete a partial value to its earliest / latest instant.
const MIN: Record<string, string> = { DA: '00000101', TM: '000000.000000', DT: '00000101000000.000000' };
const MAX: Record<string, string> = { DA: '99991231', TM: '235959.999999', DT: '99991231235959.999999' };
const SHAPE: Record<string, RegExp> = {
  DA: /^\d{8}$/,
  TM: /^\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?$/,
  DT: /^\d{4}(\d{2}(\d{2}(\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?)?)?)?$/,
};

/** Strips legacy separators ('2024.01.02', '10:15:00') and a DT time zone offset. */
function cleanTemporal(v: string, vr: VR): string {
  let s = v.trim();
  if (vr === 'DA') s = s.replace(/\./g, '');
  if (vr === 'TM') s = s.replace(/:/g, '');
  if (vr === 'DT') s = s.replace(/[+-]\d{4}$/, '');
  return s;
}

/** The earliest (`end` 'lower') or latest instant a (possibly partial) DA/TM/DT value stands for. */
export function temporalBound(value: string, vr: VR, end: 'lower' | 'upper'): string | undefined {
  const s = cleanTemporal(value, vr);
  if (!SHAPE[vr]?.test(s)) return undefined;
  const t = end === 'lower' ? MIN[vr] : MAX[vr];
  if (s.length >= t.length) return s;
  // A fraction given with fewer than six digits: pad it (with 0s either way: '.5' is .500000).
  if (s.includes('.')) return s + '0'.repeat(t.length - s.length);
  return s + t.slice(s.length);
}

function parseRange(tag: number, vr: VR, text: string): Range {
  const parts = text.split('-');
  if (parts.length === 1) {
    const lower = temporalBound(text, vr, 'lower');
    const upper = temporalBound(text, vr, 'upper');
    if (!lower || !upper) throw new InvalidQueryKeyError(tag, `malformed ${vr} value '${text}'`);
    return { from: text, to: text, lower, upper };
  }
  // DT values may carry a '-HHMM' offset, which makes '-' ambiguous: accept only a plain split.
  if (parts.length !== 2 || (parts[0] === '' && parts[1] === '')) {
    throw new InvalidQueryKeyError(tag, `malformed ${vr} range '${text}'`);
  }
  const r: Range = {};
  if (parts[0] !== '') {
    r.from = parts[0];
    r.lower = temporalBound(parts[0], vr, 'lower');
    if (!r.lower) throw new InvalidQueryKeyError(tag, `malformed ${vr} range start '${parts[0]}'`);
  }
  if (parts[1] !== '') {
    r.to = parts[1];
    r.upper = temporalBound(parts[1], vr, 'upper');
    if (!r.upper) throw new InvalidQueryKeyError(tag, `malformed ${vr} range end '${parts[1]}'`);
  }
  if (r.lower && r.upper && r.lower > r.upper) throw new InvalidQueryKeyError(tag, `range '${text}' ends before it starts`);
  return r;
}

/** Compiles one key from its (trimmed, decoded) values; `undefined` or [] or [''] = universal. */
export function compileMatcher(tag: number, vr: VR, values: readonly string[] | undefined, opts: MatchOptions = {}): Matcher {
  if (!values || values.length === 0 || (values.length === 1 && values[0] === '')) return { kind: 'universal' };
  if (values.length === 1 && values[0] === '""') return { kind: 'empty' };
  const ci = vr === 'PN' && (opts.caseInsensitivePersonNames ?? true);
  if (vr === 'UI') return values.length === 1 ? { kind: 'single', values: [values[0]] } : { kind: 'uids', uids: [...values] };
  if (RANGE_VRS.has(vr)) return { kind: 'range', ranges: values.map((v) => parseRange(tag, vr, v)) };
  if (NUMBER_VRS.has(vr)) {
    const numbers = values.map(Number);
    if (numbers.some((n) => !Number.isFinite(n))) throw new InvalidQueryKeyError(tag, `not a number: '${values.join('\\')}'`);
    return { kind: 'numbers', numbers };
  }
  if (WILDCARD_VRS.has(vr) && values.some((v) => v.includes('*') || v.includes('?'))) {
    if (values.every((v) => /^\*+$/.test(v))) return { kind: 'universal' };
    return { kind: 'wildcard', patterns: [...values], wildcards: values.map((v) => compileWildcard(normalizePn(v, vr), ci)) };
  }
  return { kind: 'single', values: values.map((v) => normalizePn(v, vr)) };
}

/**
 * Trailing empty components and groups of a person name are insignificant ('Doe^Jane^^' = 'Doe^Jane').
 * Trimmed by scanning back, not with /[\^ ]+$/ or /=+$/: a regular expression retries
 * such a run from each of its starts, quadratic in its length (seconds for a key or a
 * stored name of 100,000 '^' followed by a letter).
 */
function normalizePn(v: string, vr: VR): string {
  if (vr !== 'PN') return v;
  return trimEnd(
    v
      .split('=')
      .map((g) => trimEnd(g, '^', ' '))
      .join('='),
    '=',
  );
}

/** `s` without its trailing run of the characters `a` and `b`. */
function trimEnd(s: string, a: string, b = a): string {
  let e = s.length;
  while (e > 0 && (s[e - 1] === a || s[e - 1] === b)) e--;
  return e === s.length ? s : s.slice(0, e);
}

/** The strings a stored PN value is compared with: the whole value and each non-empty component group. */
function pnCandidates(v: string): string[] {
  const whole = normalizePn(v, 'PN');
  const groups = whole.split('=').filter((g) => g !== '');
  return groups.length > 1 ? [whole, ...groups] : [whole];
}

function matchOne(m: Matcher, vr: VR, stored: string, ci: boolean): boolean {
  switch (m.kind) {
    case 'single': {
      if (vr === 'PN') {
        const c = pnCandidates(stored);
        return m.values.some((k) => c.some((s) => (ci ? s.toLowerCase() === k.toLowerCase() : s === k)));
      }
      return m.values.includes(stored);
    }
    case 'wildcard': {
      const c = vr === 'PN' ? pnCandidates(stored) : [stored];
      return m.wildcards.some((w) => c.some((s) => matchWildcard(w, s)));
    }
    case 'uids':
      return m.uids.includes(stored);
    case 'range': {
      const lo = temporalBound(stored, vr, 'lower');
      const hi = temporalBound(stored, vr, 'upper');
      if (!lo || !hi) return false;
      // The stored value (itself possibly partial) lies inside the range.
      return m.ranges.some((r) => (r.lower === undefined || lo >= r.lower) && (r.upper === undefined || hi <= r.upper));
    }
    case 'numbers': {
      const n = Number(stored);
      return stored !== '' && m.numbers.includes(n);
    }
    default:
      return false;
  }
}

/** True when the target satisfies one key. */
export function matchKey(key: QueryKey, target: MatchTarget, opts: MatchOptions = {}): boolean {
  const m = key.matcher;
  if (m.kind === 'universal') return true;
  if (m.kind === 'sequence') {
    const items = target.items(key.tag);
    if (!items || items.length === 0) return false;
    return items.some((item) => matchAll(m.keys, item, opts));
  }
  const values = target.values(key.tag);
  const present = values?.filter((v) => v !== '') ?? [];
  if (m.kind === 'empty') return present.length === 0;
  if (present.length === 0) return false;
  const ci = key.vr === 'PN' && (opts.caseInsensitivePersonNames ?? true);
  return present.some((v) => matchOne(m, key.vr, v, ci));
}

/** True when the target satisfies every key. */
export function matchAll(keys: readonly QueryKey[], target: MatchTarget, opts: MatchOptions = {}): boolean {
  for (const k of keys) if (!matchKey(k, target, opts)) return false;
  return true;
}

// ---- compiling an identifier ----

/**
 * The keys of a C-FIND identifier: one per top-level attribute (group 0000/0002 and
 * Specific Character Set excluded). A sequence key with no item, or an item without
 * attributes, is universal; otherwise its first item's attributes are its sub-keys.
 * Throws InvalidQueryKeyError for a value that cannot be matched.
 */
export function compileKeys(identifier: Dataset, opts: MatchOptions = {}): QueryKey[] {
  const keys: QueryKey[] = [];
  for (const el of identifier.sorted()) {
    const group = el.tag >>> 16;
    if (group === 0x0000 || group === 0x0002 || el.tag === 0x00080005 || (el.tag & 0xffff) === 0) continue;
    if (el.vr === 'SQ' || el.items) {
      const item = el.items?.[0];
      const sub = item ? compileKeys(item, opts) : [];
      const matching = sub.filter((k) => k.matcher.kind !== 'universal');
      keys.push({ tag: el.tag, vr: 'SQ', matcher: matching.length ? { kind: 'sequence', keys: matching } : { kind: 'universal' }, items: sub });
      continue;
    }
    const vr = el.vr === 'UN' ? (lookupTag(el.tag)?.vr ?? 'UN') : el.vr;
    keys.push({ tag: el.tag, vr, matcher: compileMatcher(el.tag, vr, getStrings(identifier, el.tag), opts) });
  }
  return keys;
}

// ---- targets ----

/** A Dataset as a match target. */
export function datasetTarget(ds: Dataset): MatchTarget {
  return {
    values: (tag) => (ds.has(tag) ? (getStrings(ds, tag) ?? []) : undefined),
    items: (tag) => ds.get(tag)?.items?.map(datasetTarget),
  };
}

function pnText(v: DicomJsonPersonName): string {
  return trimEnd([v.Alphabetic ?? '', v.Ideographic ?? '', v.Phonetic ?? ''].join('='), '=');
}

/** A DICOM JSON object (PS3.18 F.2) as a match target. */
export function jsonTarget(json: DicomJsonObject): MatchTarget {
  return {
    values(tag) {
      const a = json[tagToHex(tag)];
      if (!a) return undefined;
      if (!a.Value) return [];
      return a.Value.map((v) => {
        if (v === null) return '';
        if (typeof v === 'object') return pnText(v);
        return String(v).trim();
      });
    },
    items(tag) {
      const a = json[tagToHex(tag)];
      if (!a) return undefined;
      return (a.Value ?? []).map((v) => jsonTarget((v ?? {}) as DicomJsonObject));
    },
  };
}

/** Values from a map (index columns, computed attributes) first, then another target. */
export function overlayTarget(overlay: ReadonlyMap<number, readonly string[]>, base: MatchTarget): MatchTarget {
  return {
    values: (tag) => overlay.get(tag) ?? base.values(tag),
    items: (tag) => base.items(tag),
  };
}
