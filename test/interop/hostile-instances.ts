/**
 * Part 10 files an attacker would send (issue 15 items 3 and 7): a Secondary Capture
 * whose header carries any number of large private UC elements, and one whose UIDs are
 * whatever text the test chooses. Written element by element to disk (explicit VR
 * little endian), so a 500 MB header never sits in the test's memory.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { buildMetaHeader } from '../../src/dicom/part10.js';

export const SECONDARY_CAPTURE = '1.2.840.10008.5.1.4.1.1.7';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';
/** VRs with a 4-byte length in explicit VR (PS3.5 7.1.2). */
const LONG = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT', 'SV', 'UV']);

function elementHeader(tag: number, vr: string, length: number): Buffer {
  const long = LONG.has(vr);
  const b = Buffer.alloc(long ? 12 : 8);
  b.writeUInt16LE(tag >>> 16, 0);
  b.writeUInt16LE(tag & 0xffff, 2);
  b.write(vr, 4, 'latin1');
  if (long) b.writeUInt32LE(length, 8);
  else b.writeUInt16LE(length, 6);
  return b;
}

/** A text value padded to even length (UI with NUL, the others with a space). */
function text(vr: string, value: string): Buffer {
  const b = Buffer.from(value, 'latin1');
  return b.length % 2 ? Buffer.concat([b, Buffer.from(vr === 'UI' ? '\0' : ' ', 'latin1')]) : b;
}

export interface HostileInstance {
  sopInstanceUid: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  patientName?: string;
  patientId?: string;
  /** Private UC elements in the header: `count` of `bytes` bytes each (even). */
  privateUc?: { count: number; bytes: number };
}

/** Writes a small 8x8 Secondary Capture with the given UIDs (taken as they are) and private elements. */
export function writeSecondaryCapture(file: string, o: HostileInstance): void {
  const fd = openSync(file, 'w');
  try {
    const put = (tag: number, vr: string, value: Buffer): void => {
      writeSync(fd, elementHeader(tag, vr, value.length));
      writeSync(fd, value);
    };
    const str = (tag: number, vr: string, value: string): void => put(tag, vr, text(vr, value));
    writeSync(fd, buildMetaHeader({ sopClassUid: SECONDARY_CAPTURE, sopInstanceUid: o.sopInstanceUid, transferSyntaxUid: EXPLICIT_LE }));
    str(0x00080016, 'UI', SECONDARY_CAPTURE);
    str(0x00080018, 'UI', o.sopInstanceUid);
    str(0x00080020, 'DA', '20240102');
    str(0x00080060, 'CS', 'OT');
    str(0x00080064, 'CS', 'WSD');
    if (o.privateUc) {
      const { count, bytes } = o.privateUc;
      const blocks = Math.ceil(count / 256);
      for (let b = 0; b < blocks; b++) str(0x00090010 + b, 'LO', 'OPENPACS HOSTILE');
      const value = Buffer.alloc(bytes, 0x41);
      for (let i = 0; i < count; i++) {
        const block = 0x10 + Math.floor(i / 256);
        put((0x0009 << 16) | (block << 8) | (i % 256), 'UC', value);
      }
    }
    str(0x00100010, 'PN', o.patientName ?? 'Hostile^Header');
    str(0x00100020, 'LO', o.patientId ?? 'HOSTILE1');
    str(0x0020000d, 'UI', o.studyInstanceUid);
    str(0x0020000e, 'UI', o.seriesInstanceUid);
    str(0x00200013, 'IS', '1');
    const us = (tag: number, v: number): void => {
      const b = Buffer.alloc(2);
      b.writeUInt16LE(v);
      put(tag, 'US', b);
    };
    us(0x00280002, 1);
    str(0x00280004, 'CS', 'MONOCHROME2');
    us(0x00280010, 8);
    us(0x00280011, 8);
    us(0x00280100, 8);
    us(0x00280101, 8);
    us(0x00280102, 7);
    us(0x00280103, 0);
    put(0x7fe00010, 'OB', Buffer.alloc(64, 0x80));
  } finally {
    closeSync(fd);
  }
}
