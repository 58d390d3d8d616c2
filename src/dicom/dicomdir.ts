/**
 * The DICOMDIR of a file-set (PS3.10 section 8, PS3.3 Annex F, PS3.11 General Purpose
 * profiles): a Part 10 file of the Media Storage Directory SOP Class whose Directory Record
 * Sequence holds one PATIENT, STUDY and SERIES record per entity and one record per file
 * (IMAGE, SR DOCUMENT, PRESENTATION, ...), linked by byte offsets: each record names the
 * offset of its next sibling and of its first child, counted from the first byte of the
 * file (the preamble's).
 *
 * The caller gives each file's ID (the path components, PS3.10 8.5: at most 8 components
 * of 1 to 8 characters A-Z, 0-9, _) and its header; the keys a record needs are copied
 * out at once (dicomdirFile), so a whole export's records stay small in memory.
 */
import { Dataset, type Element } from './dataset.js';
import { putNumbers, putString, writeDataset } from './dataset-writer.js';
import { buildMetaHeader, type FileMeta } from './part10.js';
import { EXPLICIT_VR_LITTLE_ENDIAN } from './transfer-syntax.js';
import { newUid } from './uid-generator.js';
import type { VR } from './vr.js';

export const MEDIA_STORAGE_DIRECTORY_STORAGE = '1.2.840.10008.1.3.10';

const T = {
  SpecificCharacterSet: 0x00080005,
  StudyDate: 0x00080020,
  ContentDate: 0x00080023,
  StudyTime: 0x00080030,
  ContentTime: 0x00080033,
  AccessionNumber: 0x00080050,
  Modality: 0x00080060,
  ReferencedSeriesSequence: 0x00081115,
  StudyDescription: 0x00081030,
  PatientName: 0x00100010,
  PatientID: 0x00100020,
  StudyInstanceUID: 0x0020000d,
  SeriesInstanceUID: 0x0020000e,
  StudyID: 0x00200010,
  SeriesNumber: 0x00200011,
  InstanceNumber: 0x00200013,
  DocumentTitle: 0x00420010,
  MIMETypeOfEncapsulatedDocument: 0x00420012,
  ContentLabel: 0x00700080,
  ContentDescription: 0x00700081,
  PresentationCreationDate: 0x00700082,
  PresentationCreationTime: 0x00700083,
  ContentCreatorName: 0x00700084,
  ConceptNameCodeSequence: 0x0040a043,
  CompletionFlag: 0x0040a491,
  VerificationFlag: 0x0040a493,
  VerificationDateTime: 0x0040a030,
  // Directory Information Module (PS3.3 F.3)
  FileSetID: 0x00041130,
  OffsetOfFirstRecord: 0x00041200,
  OffsetOfLastRecord: 0x00041202,
  FileSetConsistencyFlag: 0x00041212,
  DirectoryRecordSequence: 0x00041220,
  OffsetOfNextRecord: 0x00041400,
  RecordInUseFlag: 0x00041410,
  OffsetOfLowerLevelEntity: 0x00041420,
  DirectoryRecordType: 0x00041430,
  ReferencedFileID: 0x00041500,
  ReferencedSOPClassUIDInFile: 0x00041510,
  ReferencedSOPInstanceUIDInFile: 0x00041511,
  ReferencedTransferSyntaxUIDInFile: 0x00041512,
} as const;

/** The keys of each level's record (PS3.3 F.5): Type 1 and 2 keys, and the 1C ones we can fill. */
const PATIENT_KEYS = [T.SpecificCharacterSet, T.PatientName, T.PatientID];
const STUDY_KEYS = [T.SpecificCharacterSet, T.StudyDate, T.StudyTime, T.AccessionNumber, T.StudyDescription, T.StudyInstanceUID, T.StudyID];
const SERIES_KEYS = [T.SpecificCharacterSet, T.Modality, T.SeriesInstanceUID, T.SeriesNumber];

interface RecordKind {
  type: string;
  keys: number[];
}
const IMAGE: RecordKind = { type: 'IMAGE', keys: [T.SpecificCharacterSet, T.InstanceNumber] };
const CONTENT = [T.SpecificCharacterSet, T.InstanceNumber, T.ContentDate, T.ContentTime];

/** The record type of a file by its SOP Class (PS3.3 F.5), with the keys that record carries. */
export function recordKind(sopClassUid: string): RecordKind {
  const sr = '1.2.840.10008.5.1.4.1.1.88.';
  if (sopClassUid === `${sr}59`) return { type: 'KEY OBJECT DOC', keys: [...CONTENT, T.ConceptNameCodeSequence] };
  if (sopClassUid.startsWith(sr))
    return { type: 'SR DOCUMENT', keys: [...CONTENT, T.CompletionFlag, T.VerificationFlag, T.VerificationDateTime, T.ConceptNameCodeSequence] };
  if (sopClassUid.startsWith('1.2.840.10008.5.1.4.1.1.11.'))
    return {
      type: 'PRESENTATION',
      keys: [
        T.SpecificCharacterSet,
        T.InstanceNumber,
        T.ContentLabel,
        T.ContentDescription,
        T.PresentationCreationDate,
        T.PresentationCreationTime,
        T.ContentCreatorName,
        T.ReferencedSeriesSequence,
      ],
    };
  if (sopClassUid.startsWith('1.2.840.10008.5.1.4.1.1.104.'))
    return { type: 'ENCAP DOC', keys: [...CONTENT, T.DocumentTitle, T.MIMETypeOfEncapsulatedDocument, T.ConceptNameCodeSequence] };
  if (sopClassUid === '1.2.840.10008.5.1.4.1.1.66') return { type: 'RAW DATA', keys: CONTENT };
  if (sopClassUid.startsWith('1.2.840.10008.5.1.4.1.1.9.')) return { type: 'WAVEFORM', keys: CONTENT };
  return IMAGE;
}

/** Why `fileId` is not a valid PS3.10 File ID, or undefined. */
export function fileIdProblem(fileId: readonly string[]): string | undefined {
  if (fileId.length < 1 || fileId.length > 8) return `a file ID has 1 to 8 components, got ${fileId.length}`;
  const bad = fileId.find((c) => !/^[A-Z0-9_]{1,8}$/.test(c));
  return bad === undefined ? undefined : `file ID component "${bad.slice(0, 16)}" is not 1 to 8 characters A-Z, 0-9, _`;
}

/** One file of the set: what its records need, copied out of its header. */
export interface DicomdirFile {
  fileId: readonly string[];
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  /** Only the keys the records use, with their own copies of the values. */
  keys: Dataset;
}

function copyElement(el: Element): Element | undefined {
  if (el.skipped || el.fragments) return undefined; // a bulk value is no key
  return { tag: el.tag, vr: el.vr, length: el.length, value: el.value?.slice(), items: el.items?.map((d) => copyDataset(d)) };
}

function copyDataset(ds: Dataset, tags?: readonly number[]): Dataset {
  const out = new Dataset();
  for (const el of tags ? tags.map((t) => ds.get(t)) : ds.values()) {
    const c = el && copyElement(el);
    if (c) out.put(c);
  }
  return out;
}

/** The record keys of one file from its meta header and data set (read up to its pixel data is enough). */
export function dicomdirFile(
  fileId: readonly string[],
  meta: Pick<FileMeta, 'mediaStorageSopClassUid' | 'mediaStorageSopInstanceUid' | 'transferSyntaxUid'>,
  ds: Dataset,
): DicomdirFile {
  const problem = fileIdProblem(fileId);
  if (problem) throw new RangeError(problem);
  const tags = new Set([...PATIENT_KEYS, ...STUDY_KEYS, ...SERIES_KEYS, ...recordKind(meta.mediaStorageSopClassUid).keys]);
  return {
    fileId: [...fileId],
    sopClassUid: meta.mediaStorageSopClassUid,
    sopInstanceUid: meta.mediaStorageSopInstanceUid,
    transferSyntaxUid: meta.transferSyntaxUid,
    keys: copyDataset(ds, [...tags]),
  };
}

interface DirRecord {
  ds: Dataset;
  children: DirRecord[];
  /** Byte offset of the record's item tag in the file, once laid out. */
  offset: number;
  length: number;
}

const text = (ds: Dataset, tag: number): string => {
  const v = ds.get(tag)?.value;
  return v
    ? Buffer.from(v)
        .toString('latin1')
        .replace(/[ \0]+$/, '')
    : '';
};

/**
 * Type 1 keys a file may lack or leave empty (a de-identified file's Study Date, Time and
 * ID are empty): the record gets a stand-in, as dcmmkdir --invent does, the dates the
 * de-identifier's own dummy values.
 */
const INVENTED: Record<number, string> = {
  [T.PatientID]: 'UNKNOWN',
  [T.StudyDate]: '19000101',
  [T.StudyTime]: '000000',
  [T.StudyID]: '1',
  [T.Modality]: 'OT',
  [T.SeriesNumber]: '1',
  [T.InstanceNumber]: '1',
};

/** A record of `type` with `keys` copied from `from`; a Type 2 key the file lacks is present and empty. */
function record(type: string, from: Dataset, keys: readonly number[]): DirRecord {
  const ds = new Dataset();
  putNumbers(ds, T.OffsetOfNextRecord, 'UL', [0]);
  putNumbers(ds, T.RecordInUseFlag, 'US', [0xffff]);
  putNumbers(ds, T.OffsetOfLowerLevelEntity, 'UL', [0]);
  putString(ds, T.DirectoryRecordType, 'CS', type);
  for (const tag of keys) {
    const el = from.get(tag);
    if (INVENTED[tag] !== undefined && !el?.value?.some((b) => b !== 0x20 && b !== 0)) {
      putString(ds, tag, KEY_VR[tag], INVENTED[tag]);
      continue;
    }
    if (el) ds.put(copyElement(el) ?? { tag, vr: el.vr, length: 0, value: new Uint8Array(0) });
    else if (tag !== T.SpecificCharacterSet && tag !== T.VerificationDateTime && tag !== T.ReferencedSeriesSequence) {
      // Type 1 and 2 keys are present even when the file has no value (dcmmkdir would invent one for Type 1).
      const vr = KEY_VR[tag] ?? 'LO';
      ds.put(vr === 'SQ' ? { tag, vr, length: 0, items: [] } : { tag, vr, length: 0, value: new Uint8Array(0) });
    }
  }
  return { ds, children: [], offset: 0, length: 0 };
}

const KEY_VR: Record<number, VR> = {
  [T.StudyDate]: 'DA',
  [T.ContentDate]: 'DA',
  [T.PresentationCreationDate]: 'DA',
  [T.StudyTime]: 'TM',
  [T.ContentTime]: 'TM',
  [T.PresentationCreationTime]: 'TM',
  [T.AccessionNumber]: 'SH',
  [T.Modality]: 'CS',
  [T.StudyDescription]: 'LO',
  [T.PatientName]: 'PN',
  [T.PatientID]: 'LO',
  [T.StudyInstanceUID]: 'UI',
  [T.SeriesInstanceUID]: 'UI',
  [T.StudyID]: 'SH',
  [T.SeriesNumber]: 'IS',
  [T.InstanceNumber]: 'IS',
  [T.DocumentTitle]: 'ST',
  [T.MIMETypeOfEncapsulatedDocument]: 'LO',
  [T.ContentLabel]: 'CS',
  [T.ContentDescription]: 'LO',
  [T.ContentCreatorName]: 'PN',
  [T.ConceptNameCodeSequence]: 'SQ',
  [T.CompletionFlag]: 'CS',
  [T.VerificationFlag]: 'CS',
};

/** The records as a tree: patients (by ID and name), their studies, series and files, in the order first met. */
function tree(files: readonly DicomdirFile[]): DirRecord[] {
  const patients = new Map<string, DirRecord & { studies: Map<string, DirRecord & { series: Map<string, DirRecord> }> }>();
  for (const f of files) {
    const k = f.keys;
    const pKey = `${text(k, T.PatientID)}\\${text(k, T.PatientName)}`;
    let p = patients.get(pKey);
    if (!p) patients.set(pKey, (p = { ...record('PATIENT', k, PATIENT_KEYS), studies: new Map() }));
    const stKey = text(k, T.StudyInstanceUID);
    let st = p.studies.get(stKey);
    if (!st) p.studies.set(stKey, (st = { ...record('STUDY', k, STUDY_KEYS), series: new Map() }));
    const seKey = text(k, T.SeriesInstanceUID);
    let se = st.series.get(seKey);
    if (!se) st.series.set(seKey, (se = record('SERIES', k, SERIES_KEYS)));
    const kind = recordKind(f.sopClassUid);
    const leaf = record(kind.type, k, kind.keys);
    putString(leaf.ds, T.ReferencedFileID, 'CS', [...f.fileId]);
    putString(leaf.ds, T.ReferencedSOPClassUIDInFile, 'UI', f.sopClassUid);
    putString(leaf.ds, T.ReferencedSOPInstanceUIDInFile, 'UI', f.sopInstanceUid);
    putString(leaf.ds, T.ReferencedTransferSyntaxUIDInFile, 'UI', f.transferSyntaxUid);
    // The record's elements in ascending tag order, as a data set must be.
    se.children.push(sortedRecord(leaf));
  }
  const roots: DirRecord[] = [];
  for (const p of patients.values()) {
    for (const st of p.studies.values()) {
      st.children = [...st.series.values()].map(sortedRecord);
      p.children.push(sortedRecord(st));
    }
    roots.push(sortedRecord(p));
  }
  return roots;
}

function sortedRecord<R extends DirRecord>(r: R): R {
  const ds = new Dataset();
  for (const el of r.ds.sorted()) ds.put(el);
  r.ds = ds;
  return r;
}

/** Depth first: a record, then its children's subtrees (DCMTK's order too). */
function flatten(records: readonly DirRecord[], into: DirRecord[] = []): DirRecord[] {
  for (const r of records) {
    into.push(r);
    flatten(r.children, into);
  }
  return into;
}

/** Explicit VR little endian item: (FFFE,E000), 4-byte length, then the body. */
function itemBytes(body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16LE(0xfffe, 0);
  head.writeUInt16LE(0xe000, 2);
  head.writeUInt32LE(body.length, 4);
  return Buffer.concat([head, body]);
}

/** Root directory information with the two root offsets. */
function rootElements(fileSetId: string, first: number, last: number): Buffer {
  const ds = new Dataset();
  putString(ds, T.FileSetID, 'CS', fileSetId);
  putNumbers(ds, T.OffsetOfFirstRecord, 'UL', [first]);
  putNumbers(ds, T.OffsetOfLastRecord, 'UL', [last]);
  putNumbers(ds, T.FileSetConsistencyFlag, 'US', [0]);
  return writeDataset(ds, EXPLICIT_VR_LITTLE_ENDIAN);
}

/** The DICOMDIR file of `files` (at least one). */
export function buildDicomdir(files: readonly DicomdirFile[], opts: { fileSetId?: string } = {}): Buffer {
  if (files.length === 0) throw new RangeError('a DICOMDIR needs at least one file');
  const fileSetId = opts.fileSetId ?? '';
  if (!/^[A-Z0-9_ ]{0,16}$/.test(fileSetId)) throw new RangeError('a file-set ID is at most 16 characters A-Z, 0-9, _ and space');
  const header = buildMetaHeader({ sopClassUid: MEDIA_STORAGE_DIRECTORY_STORAGE, sopInstanceUid: newUid(), transferSyntaxUid: EXPLICIT_VR_LITTLE_ENDIAN });
  const roots = tree(files);
  const all = flatten(roots);
  // Offsets are fixed-size (UL): lay out with the records' sizes, then write the real offsets.
  const rootLength = rootElements(fileSetId, 0, 0).length;
  let at = header.length + rootLength + 12; // + the sequence's header (tag, VR, reserved, length)
  for (const r of all) {
    r.offset = at;
    r.length = 8 + writeDataset(r.ds, EXPLICIT_VR_LITTLE_ENDIAN).length;
    at += r.length;
  }
  const link = (siblings: readonly DirRecord[]) => {
    siblings.forEach((r, i) => {
      putNumbers(r.ds, T.OffsetOfNextRecord, 'UL', [siblings[i + 1]?.offset ?? 0]);
      putNumbers(r.ds, T.OffsetOfLowerLevelEntity, 'UL', [r.children[0]?.offset ?? 0]);
      link(r.children);
    });
  };
  link(roots);
  const items = all.map((r) => itemBytes(writeDataset(r.ds, EXPLICIT_VR_LITTLE_ENDIAN)));
  const seqLength = items.reduce((n, b) => n + b.length, 0);
  const seqHead = Buffer.alloc(12);
  seqHead.writeUInt16LE(0x0004, 0);
  seqHead.writeUInt16LE(0x1220, 2);
  seqHead.write('SQ', 4, 'latin1');
  seqHead.writeUInt32LE(seqLength, 8);
  const root = rootElements(fileSetId, roots[0].offset, roots[roots.length - 1].offset);
  return Buffer.concat([header, root, seqHead, ...items]);
}
