/**
 * Query/Retrieve identifiers (PS3.4 C.4, C.6): the information models, parsing and
 * checking an identifier (level, keys per level), building the response identifier
 * from a match, and the retrieve selection of a C-MOVE / C-GET identifier.
 */
import { deflateRawSync } from 'node:zlib';
import { knownAttributeLevel, levelDepth, QUERY_LEVELS, type QueryLevel, type RetrieveSelection } from '../archive/query.js';
import { Status } from '../dicom/status.js';
import { DimseServiceError } from '../dimse/errors.js';
import { Dataset, getString } from '../dicom/dataset.js';
import { readDataset } from '../dicom/dataset-reader.js';
import { putNumbers, putString, writeDataset } from '../dicom/dataset-writer.js';
import { compileKeys, InvalidQueryKeyError, type MatchOptions, type MatchTarget, type QueryKey } from '../dicom/matching.js';
import { formatTag, tagKeyword } from '../dicom/tag.js';
import { EXPLICIT_VR_LITTLE_ENDIAN, resolveTransferSyntax } from '../dicom/transfer-syntax.js';
import { VR_INFO, type VR } from '../dicom/vr.js';

export const QR_SOP_CLASSES = {
  PatientRootFind: '1.2.840.10008.5.1.4.1.2.1.1',
  PatientRootMove: '1.2.840.10008.5.1.4.1.2.1.2',
  PatientRootGet: '1.2.840.10008.5.1.4.1.2.1.3',
  StudyRootFind: '1.2.840.10008.5.1.4.1.2.2.1',
  StudyRootMove: '1.2.840.10008.5.1.4.1.2.2.2',
  StudyRootGet: '1.2.840.10008.5.1.4.1.2.2.3',
} as const;

export type InformationModel = 'PATIENT' | 'STUDY';

export function modelOf(sopClassUid: string): InformationModel {
  return sopClassUid.startsWith('1.2.840.10008.5.1.4.1.2.1.') ? 'PATIENT' : 'STUDY';
}

export const T = {
  SpecificCharacterSet: 0x00080005,
  QueryRetrieveLevel: 0x00080052,
  RetrieveAETitle: 0x00080054,
  FailedSOPInstanceUIDList: 0x00080058,
  PatientID: 0x00100020,
  StudyInstanceUID: 0x0020000d,
  SeriesInstanceUID: 0x0020000e,
  SOPInstanceUID: 0x00080018,
} as const;

/** The unique key of each level (PS3.4 C.6.1.1, C.6.2.1). */
const UNIQUE_KEY: Record<QueryLevel, number> = {
  PATIENT: T.PatientID,
  STUDY: T.StudyInstanceUID,
  SERIES: T.SeriesInstanceUID,
  IMAGE: T.SOPInstanceUID,
};

export interface ParsedIdentifier {
  level: QueryLevel;
  identifier: Dataset;
  /** Every key except Query/Retrieve Level and Specific Character Set. */
  keys: QueryKey[];
}

const name = (tag: number): string => `${tagKeyword(tag) ?? 'attribute'} ${formatTag(tag)}`;

/**
 * Parses and checks an identifier. Failures (PS3.4 C.4.1.1.4 / C.4.2.1.4):
 * 0xA900 (Identifier does not match SOP Class) for a missing or unknown level, a level
 * the model does not have, or a key of a level below the query level; 0xC000 (Unable
 * to process) for a data set that cannot be parsed or a value that cannot be matched
 * (a malformed date range).
 */
export function parseIdentifier(
  bytes: Buffer | undefined,
  transferSyntaxUid: string,
  model: InformationModel,
  opts: MatchOptions & { checkKeyLevels?: boolean } = {},
): ParsedIdentifier {
  if (!bytes || bytes.length === 0) throw new DimseServiceError(Status.DataSetDoesNotMatchSopClass, 'no identifier');
  let identifier: Dataset;
  try {
    identifier = readDataset(bytes, transferSyntaxUid);
  } catch (err) {
    throw new DimseServiceError(Status.CannotUnderstand, `identifier cannot be parsed: ${(err as Error).message}`);
  }
  const levelText = identifier.has(T.QueryRetrieveLevel) ? (getString(identifier, T.QueryRetrieveLevel) ?? '') : undefined;
  if (levelText === undefined || levelText === '') {
    throw new DimseServiceError(Status.DataSetDoesNotMatchSopClass, 'Query/Retrieve Level (0008,0052) missing', [T.QueryRetrieveLevel]);
  }
  if (!(QUERY_LEVELS as readonly string[]).includes(levelText)) {
    throw new DimseServiceError(Status.DataSetDoesNotMatchSopClass, `unknown Query/Retrieve Level '${levelText}'`, [T.QueryRetrieveLevel]);
  }
  const level = levelText as QueryLevel;
  if (model === 'STUDY' && level === 'PATIENT') {
    throw new DimseServiceError(Status.DataSetDoesNotMatchSopClass, 'the Study Root model has no PATIENT level', [T.QueryRetrieveLevel]);
  }
  let keys: QueryKey[];
  try {
    keys = compileKeys(identifier, opts).filter((k) => k.tag !== T.QueryRetrieveLevel);
  } catch (err) {
    if (err instanceof InvalidQueryKeyError) throw new DimseServiceError(Status.CannotUnderstand, err.message, [err.tag]);
    throw err;
  }
  if (opts.checkKeyLevels ?? true) {
    for (const k of keys) {
      const at = knownAttributeLevel(k.tag);
      if (at !== undefined && levelDepth(at) > levelDepth(level)) {
        throw new DimseServiceError(Status.DataSetDoesNotMatchSopClass, `${name(k.tag)} is a ${at} key, below ${level} level`, [k.tag]);
      }
    }
  }
  return { level, identifier, keys };
}

/** Which instances a C-MOVE / C-GET identifier selects: the unique keys of the level and above. */
export function retrieveSelection(p: ParsedIdentifier, model: InformationModel): RetrieveSelection {
  const sel: Record<string, string[]> = {};
  const fields: [QueryLevel, keyof RetrieveSelection][] = [
    ['PATIENT', 'patientIds'],
    ['STUDY', 'studyInstanceUids'],
    ['SERIES', 'seriesInstanceUids'],
    ['IMAGE', 'sopInstanceUids'],
  ];
  for (const [lvl, field] of fields) {
    if (levelDepth(lvl) > levelDepth(p.level)) break;
    const tag = UNIQUE_KEY[lvl];
    const k = p.keys.find((x) => x.tag === tag);
    const m = k?.matcher;
    const values = m?.kind === 'single' ? m.values : m?.kind === 'uids' ? m.uids : undefined;
    const required = lvl === p.level || (model === 'PATIENT' && lvl === 'PATIENT');
    if (!values) {
      if (m && m.kind !== 'universal') {
        throw new DimseServiceError(Status.DataSetDoesNotMatchSopClass, `${name(tag)} must be a single value or a list of UIDs`, [tag]);
      }
      if (required && lvl === p.level) {
        throw new DimseServiceError(Status.DataSetDoesNotMatchSopClass, `${name(tag)} is required for a ${p.level} level retrieve`, [tag]);
      }
      continue;
    }
    sel[field] = values;
  }
  // Patients are keyed by Patient ID and issuer: an issuer given beside the Patient ID narrows the selection.
  const issuer = p.keys.find((x) => x.tag === 0x00100021)?.matcher;
  const issuerValue = issuer?.kind === 'single' && issuer.values.length === 1 ? issuer.values[0] : undefined;
  if (sel.patientIds && issuerValue !== undefined) return { ...sel, issuerOfPatientId: issuerValue };
  return sel;
}

/** Encodes a response identifier in the presentation context's transfer syntax. */
export function encodeIdentifier(ds: Dataset, transferSyntaxUid: string): Buffer {
  const ts = resolveTransferSyntax(transferSyntaxUid);
  if (ts.deflated) return deflateRawSync(writeDataset(ds, EXPLICIT_VR_LITTLE_ENDIAN));
  return writeDataset(ds, transferSyntaxUid);
}

const NON_ASCII = /[^\x00-\x7f]/;

function putKeys(out: Dataset, keys: readonly QueryKey[], target: MatchTarget): boolean {
  let nonAscii = false;
  for (const k of keys) {
    if (k.vr === 'SQ') {
      const items = (target.items(k.tag) ?? []).map((item) => {
        const d = new Dataset(out);
        if (putKeys(d, k.items ?? [], item)) nonAscii = true;
        return d;
      });
      out.put({ tag: k.tag, vr: 'SQ', length: 0, items: k.items?.length ? items : [] });
      continue;
    }
    const values = target.values(k.tag) ?? [];
    const info = VR_INFO[k.vr];
    if (info.kind === 'string') {
      putString(out, k.tag, k.vr, values);
      if (values.some((v) => NON_ASCII.test(v))) nonAscii = true;
    } else if (info.kind === 'binary' && info.size > 0 && k.vr !== 'AT' && values.every((v) => v !== '' && Number.isFinite(Number(v)))) {
      putNumbers(out, k.tag, k.vr, values.map(Number));
    } else {
      out.put({ tag: k.tag, vr: k.vr, length: 0, value: new Uint8Array(0) });
    }
  }
  return nonAscii;
}

/**
 * The C-FIND response identifier: exactly the requested keys with the match's values
 * (empty when it has none), plus Query/Retrieve Level, Retrieve AE Title and Specific
 * Character Set (ISO_IR 192 when a value is not ASCII; else the request's own, if any).
 */
export function responseIdentifier(p: ParsedIdentifier, target: MatchTarget, retrieveAeTitle: string): Dataset {
  const out = new Dataset();
  const keys = p.keys.filter((k) => k.tag !== T.RetrieveAETitle);
  const nonAscii = putKeys(out, keys, target);
  putString(out, T.QueryRetrieveLevel, 'CS', p.level);
  putString(out, T.RetrieveAETitle, 'AE', retrieveAeTitle);
  const requested = p.identifier.has(T.SpecificCharacterSet) ? (getString(p.identifier, T.SpecificCharacterSet) ?? '') : '';
  putString(out, T.SpecificCharacterSet, 'CS', nonAscii ? 'ISO_IR 192' : requested);
  return out;
}

/** Binary VRs whose numeric values a response carries (as putNumbers writes them, little endian). */
const NUMERIC_VRS: ReadonlySet<VR> = new Set<VR>(['US', 'SS', 'UL', 'SL', 'FL', 'FD', 'OW', 'OL', 'OF', 'OD', 'SV', 'UV', 'OV']);

const enum Slot {
  Key = 0,
  Level = 1,
  RetrieveAe = 2,
  CharacterSet = 3,
}

/**
 * The C-FIND response encoder of one query: the same bytes as
 * `encodeIdentifier(responseIdentifier(p, target, retrieveAeTitle), transferSyntaxUid)`,
 * written straight from the match's values into one buffer (no Dataset, no buffer per
 * element: at 1,600 matches the per-element allocations were most of the query's time).
 * The layout (which elements, their order, headers) is fixed per query; per match only
 * the values are looked up. Sequence keys, big endian and deflated syntaxes take the
 * general path.
 */
export function responseEncoder(p: ParsedIdentifier, retrieveAeTitle: string, transferSyntaxUid: string): (target: MatchTarget) => Buffer {
  const ts = resolveTransferSyntax(transferSyntaxUid);
  const keys = p.keys.filter((k) => k.tag !== T.RetrieveAETitle);
  const general = (target: MatchTarget) => encodeIdentifier(responseIdentifier(p, target, retrieveAeTitle), transferSyntaxUid);
  if (ts.deflated || !ts.littleEndian || keys.some((k) => k.vr === 'SQ' || k.vr === 'OB' || k.vr === 'UN')) return general;
  const requested = p.identifier.has(T.SpecificCharacterSet) ? (getString(p.identifier, T.SpecificCharacterSet) ?? '') : '';
  interface Entry {
    tag: number;
    vr: VR;
    slot: Slot;
    key?: QueryKey;
    headerLength: number;
    long: boolean;
    info: (typeof VR_INFO)[VR];
  }
  const entry = (tag: number, vr: VR, slot: Slot, key?: QueryKey): Entry => {
    const info = VR_INFO[vr];
    const long = ts.explicitVr && info.longLength;
    return { tag, vr, slot, key, headerLength: long ? 12 : 8, long, info };
  };
  const entries = [
    ...keys.map((k) => entry(k.tag, k.vr, Slot.Key, k)),
    entry(T.QueryRetrieveLevel, 'CS', Slot.Level),
    entry(T.RetrieveAETitle, 'AE', Slot.RetrieveAe),
    entry(T.SpecificCharacterSet, 'CS', Slot.CharacterSet),
  ].sort((a, b) => a.tag - b.tag);
  const n = entries.length;
  const explicit = ts.explicitVr;
  // Per match: each entry's text (strings), numbers (binary) and value length; reused across matches.
  const texts: string[] = new Array<string>(n).fill('');
  const numbers: (number[] | undefined)[] = new Array<number[] | undefined>(n).fill(undefined);
  const lengths = new Int32Array(n);

  return (target: MatchTarget): Buffer => {
    let nonAscii = false;
    let total = 0;
    let charsetIndex = -1;
    for (let i = 0; i < n; i++) {
      const e = entries[i];
      let len = 0;
      numbers[i] = undefined;
      texts[i] = '';
      if (e.slot === Slot.Key) {
        const values = target.values(e.tag) ?? [];
        if (e.info.kind === 'string') {
          const text = values.length === 1 ? values[0] : values.join('\\');
          if (!nonAscii && NON_ASCII.test(text)) nonAscii = true;
          texts[i] = text;
          len = e.info.charset ? Buffer.byteLength(text, 'utf8') : text.length;
        } else if (e.info.size > 0 && NUMERIC_VRS.has(e.vr) && values.every((v) => v !== '' && Number.isFinite(Number(v)))) {
          numbers[i] = values.map(Number);
          len = e.info.size * values.length;
        }
      } else if (e.slot === Slot.Level) {
        texts[i] = p.level;
        len = p.level.length;
      } else if (e.slot === Slot.RetrieveAe) {
        texts[i] = retrieveAeTitle;
        len = retrieveAeTitle.length;
      } else {
        charsetIndex = i;
      }
      lengths[i] = len;
      total += e.headerLength + len + (len & 1);
    }
    if (charsetIndex >= 0) {
      const cs = nonAscii ? 'ISO_IR 192' : requested;
      texts[charsetIndex] = cs;
      lengths[charsetIndex] = cs.length;
      total += cs.length + (cs.length & 1);
    }
    const b = Buffer.allocUnsafe(total);
    let o = 0;
    for (let i = 0; i < n; i++) {
      const e = entries[i];
      const len = lengths[i];
      const padded = len + (len & 1);
      b.writeUInt16LE(e.tag >>> 16, o);
      b.writeUInt16LE(e.tag & 0xffff, o + 2);
      if (!explicit) {
        b.writeUInt32LE(padded, o + 4);
      } else {
        b[o + 4] = e.vr.charCodeAt(0);
        b[o + 5] = e.vr.charCodeAt(1);
        if (e.long) {
          b.writeUInt16LE(0, o + 6);
          b.writeUInt32LE(padded, o + 8);
        } else {
          if (padded > 0xffff) throw new Error(`value of ${formatTag(e.tag)} (${e.vr}) too long for explicit VR: ${padded}`);
          b.writeUInt16LE(padded, o + 6);
        }
      }
      o += e.headerLength;
      const nums = numbers[i];
      if (nums) {
        for (const v of nums) o = writeNumber(b, e.vr, v, o);
      } else if (len > 0) {
        o += b.write(texts[i], o, len, e.info.charset ? 'utf8' : 'latin1');
      }
      if (len & 1) b[o++] = e.info.padding;
    }
    return b;
  };
}

function writeNumber(b: Buffer, vr: VR, v: number, o: number): number {
  switch (vr) {
    case 'US':
    case 'OW':
      return b.writeUInt16LE(v, o);
    case 'SS':
      return b.writeInt16LE(v, o);
    case 'UL':
    case 'OL':
      return b.writeUInt32LE(v, o);
    case 'SL':
      return b.writeInt32LE(v, o);
    case 'FL':
    case 'OF':
      return b.writeFloatLE(v, o);
    case 'FD':
    case 'OD':
      return b.writeDoubleLE(v, o);
    case 'SV':
      return b.writeBigInt64LE(BigInt(v), o);
    default:
      return b.writeBigUInt64LE(BigInt(v), o); // UV, OV
  }
}
