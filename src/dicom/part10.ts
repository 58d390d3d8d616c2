/** DICOM Part 10 files (PS3.10 7.1): preamble, 'DICM', File Meta Information (group 0002). */
import { Dataset, getString, type Element } from './dataset.js';
import { putString, writeDataset } from './dataset-writer.js';
import { DatasetHeaderReader } from './dataset-reader.js';
import { DicomParseError } from './errors.js';
import { Tags } from './tag.js';
import { EXPLICIT_VR_LITTLE_ENDIAN } from './transfer-syntax.js';
import { VR_INFO, isVr } from './vr.js';

export { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from './implementation.js';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from './implementation.js';

export interface FileMeta {
  mediaStorageSopClassUid: string;
  mediaStorageSopInstanceUid: string;
  transferSyntaxUid: string;
  implementationClassUid: string | undefined;
  implementationVersionName: string | undefined;
  sourceAeTitle: string | undefined;
  /** All group 0002 elements as read. */
  dataset: Dataset;
}

export interface MetaHeaderInput {
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  sourceAeTitle?: string;
}

/** Preamble (128 zero bytes), 'DICM' and the File Meta Information with its group length. */
export function buildMetaHeader(input: MetaHeaderInput): Buffer {
  const ds = new Dataset();
  ds.put({ tag: Tags.FileMetaInformationVersion, vr: 'OB', length: 2, value: new Uint8Array([0, 1]) });
  putUid(ds, Tags.MediaStorageSOPClassUID, input.sopClassUid);
  putUid(ds, Tags.MediaStorageSOPInstanceUID, input.sopInstanceUid);
  putUid(ds, Tags.TransferSyntaxUID, input.transferSyntaxUid);
  putUid(ds, Tags.ImplementationClassUID, IMPLEMENTATION_CLASS_UID);
  putString(ds, Tags.ImplementationVersionName, 'SH', IMPLEMENTATION_VERSION_NAME);
  if (input.sourceAeTitle !== undefined) putString(ds, Tags.SourceApplicationEntityTitle, 'AE', input.sourceAeTitle);
  const body = writeDataset(ds, EXPLICIT_VR_LITTLE_ENDIAN);
  const groupLength = Buffer.alloc(12);
  groupLength.writeUInt16LE(0x0002, 0);
  groupLength.writeUInt16LE(0x0000, 2);
  groupLength.write('UL', 4, 'latin1');
  groupLength.writeUInt16LE(4, 6);
  groupLength.writeUInt32LE(body.length, 8);
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1'), groupLength, body]);
}

function putUid(ds: Dataset, tag: number, uid: string): void {
  const b = Buffer.from(uid, 'latin1');
  const value = b.length % 2 ? Buffer.concat([b, Buffer.alloc(1)]) : b; // UI pads with NUL
  ds.put({ tag, vr: 'UI', length: value.length, value: new Uint8Array(value) });
}

/**
 * Reads the File Meta Information of a Part 10 file. `dataSetOffset` is where the dataset
 * (in meta.transferSyntaxUid) begins. Throws DicomParseError when the bytes are not Part 10
 * or the meta header is incomplete.
 */
export function readMetaHeader(bytes: Uint8Array): { meta: FileMeta; dataSetOffset: number } {
  if (bytes.length < 132) throw new DicomParseError('not a DICOM Part 10 file: shorter than preamble + DICM', { offset: 0 });
  if (bytes[128] !== 0x44 || bytes[129] !== 0x49 || bytes[130] !== 0x43 || bytes[131] !== 0x4d) {
    throw new DicomParseError("not a DICOM Part 10 file: no 'DICM' prefix at offset 128", { offset: 128 });
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ds = new Dataset();
  let o = 132;
  let groupEnd: number | undefined;
  while (o + 8 <= bytes.length) {
    const group = dv.getUint16(o, true);
    if (group !== 0x0002 || (groupEnd !== undefined && o >= groupEnd)) break;
    const tag = (group * 0x10000 + dv.getUint16(o + 2, true)) >>> 0;
    const code = String.fromCharCode(bytes[o + 4], bytes[o + 5]);
    if (!isVr(code)) throw new DicomParseError(`invalid VR in file meta information`, { offset: o, tag });
    let length: number;
    let valueStart: number;
    if (VR_INFO[code].longLength) {
      if (o + 12 > bytes.length) throw new DicomParseError('truncated file meta information', { offset: o, tag });
      length = dv.getUint32(o + 8, true);
      valueStart = o + 12;
    } else {
      length = dv.getUint16(o + 6, true);
      valueStart = o + 8;
    }
    if (code === 'SQ' || length === 0xffffffff) throw new DicomParseError('sequence in file meta information', { offset: o, tag });
    if (valueStart + length > bytes.length) throw new DicomParseError('truncated file meta information', { offset: o, tag });
    const el: Element = { tag, vr: code, length, value: bytes.slice(valueStart, valueStart + length), valueOffset: valueStart };
    ds.put(el);
    if (tag === Tags.FileMetaInformationGroupLength && length === 4) {
      groupEnd = valueStart + 4 + dv.getUint32(valueStart, true);
    }
    o = valueStart + length;
  }
  if (groupEnd !== undefined && o !== groupEnd) {
    throw new DicomParseError(`file meta group length says ${groupEnd - 132} bytes, elements take ${o - 132}`, { offset: o });
  }
  const ts = getString(ds, Tags.TransferSyntaxUID);
  if (!ts) throw new DicomParseError('file meta information has no Transfer Syntax UID (0002,0010)', { offset: o });
  const meta: FileMeta = {
    mediaStorageSopClassUid: getString(ds, Tags.MediaStorageSOPClassUID) ?? '',
    mediaStorageSopInstanceUid: getString(ds, Tags.MediaStorageSOPInstanceUID) ?? '',
    transferSyntaxUid: ts,
    implementationClassUid: getString(ds, Tags.ImplementationClassUID),
    implementationVersionName: getString(ds, Tags.ImplementationVersionName),
    sourceAeTitle: getString(ds, Tags.SourceApplicationEntityTitle),
    dataset: ds,
  };
  return { meta, dataSetOffset: o };
}

/** Reads a whole Part 10 file held in memory: meta header and dataset (see readDataset). */
export function readPart10(bytes: Uint8Array, opts: { stopAtPixelData?: boolean; maxValueLength?: number } = {}): { meta: FileMeta; dataset: Dataset } {
  const { meta, dataSetOffset } = readMetaHeader(bytes);
  const r = new DatasetHeaderReader({
    transferSyntaxUid: meta.transferSyntaxUid,
    stopAtPixelData: opts.stopAtPixelData ?? false,
    maxValueLength: opts.maxValueLength ?? Number.POSITIVE_INFINITY,
  });
  r.push(bytes.subarray(dataSetOffset));
  r.end();
  return { meta, dataset: r.dataset };
}
