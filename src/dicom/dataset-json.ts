/** DICOM JSON Model (PS3.18 Annex F.2) from and to Datasets. */
import { Dataset, decodeAt, decodeBinaryNumbers, getStrings, stringValues, type Element } from './dataset.js';
import { putNumbers } from './dataset-writer.js';
import { lookupTag } from './dictionary.js';
import { Tags, tagToHex } from './tag.js';
import { VR_INFO, isVr, type VR } from './vr.js';

export interface DicomJsonPersonName {
  Alphabetic?: string;
  Ideographic?: string;
  Phonetic?: string;
}
export type DicomJsonValue = string | number | DicomJsonPersonName | DicomJsonObject | null;
export interface DicomJsonAttribute {
  vr: string;
  Value?: DicomJsonValue[];
  InlineBinary?: string;
  BulkDataURI?: string;
}
export type DicomJsonObject = Record<string, DicomJsonAttribute>;

export interface ToJsonOptions {
  /** Values of binary VRs up to this many bytes become InlineBinary (default 64 KiB); longer ones are left out. */
  inlineBinaryMax?: number;
  /**
   * Called for skipped bulk values, encapsulated pixel data and binary values above
   * inlineBinaryMax: return a BulkDataURI, or undefined to emit the attribute without a value.
   */
  bulkDataUri?: (el: Element, path: readonly number[]) => string | undefined;
}

const SINGLE_VALUED_TEXT = new Set<VR>(['ST', 'LT', 'UT', 'UR']);

/**
 * The JSON keys ('00100010') made once per tag: a key built again for every element is a
 * new string that V8 must look up in its string table to use as a property name, which
 * was a fifth of the DICOM JSON's cost per received instance (issue 16). Bounded: private
 * tags are unbounded in number, so past the cap keys are built each time again.
 */
const JSON_KEYS = new Map<number, string>();
const JSON_KEYS_MAX = 8192;
function jsonKey(tag: number): string {
  let k = JSON_KEYS.get(tag);
  if (k === undefined) {
    k = tagToHex(tag);
    if (JSON_KEYS.size < JSON_KEYS_MAX) JSON_KEYS.set(tag, k);
  }
  return k;
}

export function datasetToJson(ds: Dataset, opts: ToJsonOptions = {}, path: readonly number[] = []): DicomJsonObject {
  const out: DicomJsonObject = {};
  const inlineMax = opts.inlineBinaryMax ?? 64 * 1024;
  for (const el of ds.sorted()) {
    const attr: DicomJsonAttribute = { vr: el.vr };
    out[jsonKey(el.tag)] = attr;
    if (el.items) {
      const elPath = [...path, el.tag];
      if (el.items.length) attr.Value = el.items.map((item, i) => datasetToJson(item, opts, [...elPath, i]));
      continue;
    }
    if (el.skipped || el.fragments || (VR_INFO[el.vr].kind === 'binary' && isInlineVr(el.vr) && (el.value?.length ?? 0) > inlineMax)) {
      const uri = opts.bulkDataUri?.(el, [...path, el.tag]);
      if (uri !== undefined) attr.BulkDataURI = uri;
      continue;
    }
    if (!el.value || el.value.length === 0) continue;
    if (isInlineVr(el.vr)) {
      attr.InlineBinary = Buffer.from(el.value.buffer, el.value.byteOffset, el.value.byteLength).toString('base64');
      continue;
    }
    if (el.vr === 'AT') {
      attr.Value = decodeAt(el.value);
      continue;
    }
    if (VR_INFO[el.vr].kind === 'binary') {
      attr.Value = decodeBinaryNumbers(el.value, el.vr) ?? [];
      continue;
    }
    const strings = getStrings(ds, el.tag) ?? [];
    if (el.vr === 'PN') {
      attr.Value = strings.map((s) => (s === '' ? null : personName(s)));
    } else if (el.vr === 'IS' || el.vr === 'DS') {
      attr.Value = strings.map((s) => (s === '' ? null : Number.isFinite(Number(s)) ? Number(s) : s));
    } else if (SINGLE_VALUED_TEXT.has(el.vr)) {
      attr.Value = [strings.join('\\')];
    } else {
      attr.Value = strings.map((s) => (s === '' ? null : s));
    }
  }
  return out;
}

/**
 * The same text as JSON.stringify(datasetToJson(ds, opts)), written directly: the index
 * keeps this text for every received instance, and building the objects and then walking
 * them again in JSON.stringify cost about as much as parsing the header (issue 16).
 * Strings go through JSON.stringify (its escaping); the property order is the one
 * JSON.stringify gives an object: keys that are array indices ('20011001': digits, no
 * leading zero) first, in ascending order, then the others as inserted (ascending tags).
 */
export function datasetToJsonText(ds: Dataset, opts: ToJsonOptions = {}, path: readonly number[] = []): string {
  const inlineMax = opts.inlineBinaryMax ?? 64 * 1024;
  const indexKeys: string[] = [];
  const others: string[] = [];
  for (const el of ds.sorted()) {
    const key = jsonKey(el.tag);
    (isArrayIndexKey(key) ? indexKeys : others).push(`"${key}":${attributeText(ds, el, opts, inlineMax, path)}`);
  }
  return `{${indexKeys.length ? indexKeys.concat(others).join(',') : others.join(',')}}`;
}

/** Each attribute's opening ('{"vr":"CS"') made once per VR, not once per element. */
const VR_HEADS = new Map<string, string>(Object.keys(VR_INFO).map((vr) => [vr, `{"vr":${JSON.stringify(vr)}`]));

function attributeText(ds: Dataset, el: Element, opts: ToJsonOptions, inlineMax: number, path: readonly number[]): string {
  const head = VR_HEADS.get(el.vr) ?? `{"vr":${JSON.stringify(el.vr)}`;
  if (el.items) {
    if (!el.items.length) return `${head}}`;
    const elPath = [...path, el.tag];
    return `${head},"Value":[${el.items.map((item, i) => datasetToJsonText(item, opts, [...elPath, i])).join(',')}]}`;
  }
  if (el.skipped || el.fragments || (VR_INFO[el.vr].kind === 'binary' && isInlineVr(el.vr) && (el.value?.length ?? 0) > inlineMax)) {
    const uri = opts.bulkDataUri?.(el, [...path, el.tag]);
    return uri === undefined ? `${head}}` : `${head},"BulkDataURI":${JSON.stringify(uri)}}`;
  }
  if (!el.value || el.value.length === 0) return `${head}}`;
  if (isInlineVr(el.vr)) {
    return `${head},"InlineBinary":${JSON.stringify(Buffer.from(el.value.buffer, el.value.byteOffset, el.value.byteLength).toString('base64'))}}`;
  }
  let values: string;
  if (el.vr === 'AT') {
    values = decodeAt(el.value)
      .map((v) => JSON.stringify(v))
      .join(',');
  } else if (VR_INFO[el.vr].kind === 'binary') {
    values = (decodeBinaryNumbers(el.value, el.vr) ?? []).map(numberText).join(',');
  } else {
    const strings = stringValues(ds, el as Element & { value: Uint8Array });
    if (SINGLE_VALUED_TEXT.has(el.vr)) {
      values = JSON.stringify(strings.join('\\'));
    } else {
      const text = el.vr === 'PN' ? personNameValueText : el.vr === 'IS' || el.vr === 'DS' ? numberStringText : stringText;
      values = strings.length === 1 ? text(strings[0]) : strings.map(text).join(',');
    }
  }
  return `${head},"Value":[${values}]}`;
}

/** One value of a PN, IS or DS, or other string VR, as DICOM JSON writes it (an empty one as null). */
function personNameValueText(v: string): string {
  return v === '' ? 'null' : personNameText(v);
}
function numberStringText(v: string): string {
  return v === '' ? 'null' : Number.isFinite(Number(v)) ? numberText(Number(v)) : JSON.stringify(v);
}
function stringText(v: string): string {
  return v === '' ? 'null' : JSON.stringify(v);
}

/** A number as JSON.stringify writes it (NaN and the infinities as null). */
function numberText(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

function personNameText(s: string): string {
  const pn = personName(s);
  const parts: string[] = [];
  if (pn.Alphabetic !== undefined) parts.push(`"Alphabetic":${JSON.stringify(pn.Alphabetic)}`);
  if (pn.Ideographic !== undefined) parts.push(`"Ideographic":${JSON.stringify(pn.Ideographic)}`);
  if (pn.Phonetic !== undefined) parts.push(`"Phonetic":${JSON.stringify(pn.Phonetic)}`);
  return `{${parts.join(',')}}`;
}

/** Whether JSON.stringify orders this 8-character key as an array index: digits only, no leading zero. */
function isArrayIndexKey(key: string): boolean {
  if (key.charCodeAt(0) === 0x30) return false;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

function isInlineVr(vr: VR): boolean {
  return vr === 'OB' || vr === 'OD' || vr === 'OF' || vr === 'OL' || vr === 'OV' || vr === 'OW' || vr === 'UN';
}

function personName(s: string): DicomJsonPersonName {
  const [a, i, p] = s.split('=');
  const pn: DicomJsonPersonName = {};
  if (a) pn.Alphabetic = a;
  if (i) pn.Ideographic = i;
  if (p) pn.Phonetic = p;
  return pn;
}

const utf8 = new TextEncoder();

/**
 * A Dataset from DICOM JSON. Text is encoded as UTF-8 and Specific Character Set is set to
 * ISO_IR 192 when any value is not ASCII. BulkDataURI attributes become skipped elements.
 */
export function jsonToDataset(json: DicomJsonObject, parent?: Dataset): Dataset {
  const ds = new Dataset(parent);
  for (const [key, attr] of Object.entries(json)) {
    if (!/^[0-9A-Fa-f]{8}$/.test(key)) throw new Error(`DICOM JSON: invalid attribute tag '${key}'`);
    const tag = parseInt(key, 16) >>> 0;
    const vr = attr.vr ?? lookupTag(tag)?.vr;
    if (!vr || !isVr(vr)) throw new Error(`DICOM JSON: invalid VR '${attr.vr}' for ${key}`);
    if (vr === 'SQ') {
      const items = (attr.Value ?? []).map((v) => jsonToDataset(v as DicomJsonObject, ds));
      ds.put({ tag, vr, length: 0, items });
      continue;
    }
    if (attr.BulkDataURI !== undefined) {
      ds.put({ tag, vr, length: 0, skipped: true });
      continue;
    }
    if (attr.InlineBinary !== undefined) {
      const b = new Uint8Array(Buffer.from(attr.InlineBinary, 'base64'));
      ds.put({ tag, vr, length: b.length, value: b });
      continue;
    }
    const values = attr.Value ?? [];
    if (vr === 'AT') {
      putNumbers(
        ds,
        tag,
        vr,
        values.map((v) => parseInt(String(v), 16) >>> 0),
      );
    } else if (VR_INFO[vr].kind === 'binary') {
      putNumbers(
        ds,
        tag,
        vr,
        values.map((v) => Number(v)),
      );
    } else {
      const text = values
        .map((v) => {
          if (v === null) return '';
          if (typeof v === 'object') {
            const pn = v as DicomJsonPersonName;
            return [pn.Alphabetic ?? '', pn.Ideographic ?? '', pn.Phonetic ?? ''].join('=').replace(/=+$/, '');
          }
          return String(v);
        })
        .join('\\');
      const bytes = VR_INFO[vr].charset ? utf8.encode(text) : new Uint8Array(Buffer.from(text, 'latin1'));
      ds.put({ tag, vr, length: bytes.length, value: bytes });
    }
  }
  if (!parent && /[^\x00-\x7f]/.test(JSON.stringify(json))) {
    const v = new Uint8Array(Buffer.from('ISO_IR 192', 'latin1'));
    ds.put({ tag: Tags.SpecificCharacterSet, vr: 'CS', length: v.length, value: v });
  }
  return ds;
}
