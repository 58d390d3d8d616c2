/** Small valid datasets for ingest tests, encoded with src/dicom's writer (explicit VR LE). */
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dataset } from '../../src/dicom/dataset.js';
import { putString } from '../../src/dicom/dataset-writer.js';
import { writeDataset } from '../../src/dicom/dataset-writer.js';
import type { StoreRequest } from '../../src/archive/ingest.js';

export const EXPLICIT_LE = '1.2.840.10008.1.2.1';
export const CT_IMAGE = '1.2.840.10008.5.1.4.1.1.2';
export const MR_IMAGE = '1.2.840.10008.5.1.4.1.1.4';

export interface TestInstance {
  sopInstanceUid: string;
  sopClassUid?: string;
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
  patientId?: string;
  patientName?: string;
  modality?: string;
  instanceNumber?: number;
  /** Bytes of Pixel Data (OW) appended; default 256. */
  pixelBytes?: number;
  /** Private UC elements (0009,10xx...) in the header: `count` of `bytes` bytes each. */
  privateUc?: { count: number; bytes: number };
}

/** Explicit VR LE header of a defined-length OW Pixel Data element. */
export function pixelDataHeader(length: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt16LE(0x7fe0, 0);
  b.writeUInt16LE(0x0010, 2);
  b.write('OW', 4, 'latin1');
  b.writeUInt32LE(length, 8);
  return b;
}

/** The attributes before Pixel Data. */
export function headerBytes(t: TestInstance): Buffer {
  const ds = new Dataset();
  putString(ds, 0x00080005, 'CS', 'ISO_IR 192');
  putString(ds, 0x00080016, 'UI', t.sopClassUid ?? CT_IMAGE);
  putString(ds, 0x00080018, 'UI', t.sopInstanceUid);
  putString(ds, 0x00080020, 'DA', '20240102');
  putString(ds, 0x00080030, 'TM', '101500');
  putString(ds, 0x00080050, 'SH', 'ACC42');
  putString(ds, 0x00080060, 'CS', t.modality ?? 'CT');
  putString(ds, 0x00081030, 'LO', 'Head routine');
  putString(ds, 0x00100010, 'PN', t.patientName ?? 'Doe^Jane');
  putString(ds, 0x00100020, 'LO', t.patientId ?? 'PID42');
  putString(ds, 0x00100040, 'CS', 'F');
  putString(ds, 0x0020000d, 'UI', t.studyInstanceUid ?? '1.2.826.0.1.3680043.10.1.1');
  putString(ds, 0x0020000e, 'UI', t.seriesInstanceUid ?? '1.2.826.0.1.3680043.10.1.1.1');
  putString(ds, 0x00200011, 'IS', '3');
  putString(ds, 0x00200013, 'IS', String(t.instanceNumber ?? 1));
  if (t.privateUc) {
    const { count, bytes } = t.privateUc;
    for (let b = 0; b < Math.ceil(count / 256); b++) putString(ds, 0x00090010 + b, 'LO', 'OPENPACS TEST');
    const value = new Uint8Array(bytes).fill(0x41);
    for (let i = 0; i < count; i++) ds.put({ tag: (0x0009 << 16) | ((0x10 + (i >> 8)) << 8) | (i & 0xff), vr: 'UC', length: bytes, value });
  }
  return writeDataset(ds, EXPLICIT_LE);
}

/** A complete small dataset: header, then Pixel Data of `pixelBytes` deterministic bytes. */
export function datasetBytes(t: TestInstance): Buffer {
  const n = t.pixelBytes ?? 256;
  const pixels = Buffer.alloc(n);
  for (let i = 0; i < n; i++) pixels[i] = (i * 31 + 7) & 0xff;
  return Buffer.concat([headerBytes(t), pixelDataHeader(n), pixels]);
}

export function storeRequest(t: TestInstance, over: Partial<StoreRequest> = {}): StoreRequest {
  return {
    sopClassUid: t.sopClassUid ?? CT_IMAGE,
    sopInstanceUid: t.sopInstanceUid,
    transferSyntaxUid: EXPLICIT_LE,
    callingAeTitle: 'MODALITY',
    calledAeTitle: 'PACS',
    ...over,
  };
}

export function tempDir(prefix = 'pacs-archive-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Every regular file under dir (relative paths), recursively. */
/**
 * Data files under a blob root (relative keys): every non-empty file outside the markers
 * of open batches (`open/`) and the temp directories of the layout before batches. Unused
 * pool files (created ahead, empty) are not data.
 */
export function writtenFiles(blobsDir: string): string[] {
  return listFiles(blobsDir)
    .filter((f) => !f.startsWith('open/') && !f.startsWith('tmp/') && !f.startsWith('pool/'))
    .filter((f) => statSync(join(blobsDir, f)).size > 0);
}

export function listFiles(dir: string, base = ''): string[] {
  const out: string[] = [];
  let names: string[];
  try {
    names = readdirSync(join(dir, base));
  } catch {
    return out;
  }
  for (const n of names) {
    const rel = base ? `${base}/${n}` : n;
    if (statSync(join(dir, rel)).isDirectory()) out.push(...listFiles(dir, rel));
    else out.push(rel);
  }
  return out.sort();
}

/** Splits bytes into chunks of the given sizes, cycling. */
export function chunked(b: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  let o = 0;
  for (let i = 0; o < b.length; i++) {
    const n = sizes[i % sizes.length];
    out.push(b.subarray(o, o + n));
    o += n;
  }
  return out;
}
