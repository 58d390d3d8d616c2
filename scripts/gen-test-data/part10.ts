// A minimal explicit VR little endian Part 10 writer, enough for flat image data sets:
// elements, the file meta information, the header up to the Pixel Data value (which the
// generators write themselves, so large pixel data is streamed), the patient and study
// elements every generator shares; and readMeta, the reader for the meta header.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { TS } from './uids.js';

/** Fixed implementation identity of this generator (a UUID-derived UID). */
const IMPLEMENTATION_CLASS_UID = '2.25.94650329843745390201796516254651862051';
const IMPLEMENTATION_VERSION = 'OPENPACS_GEN1';

const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT', 'SV', 'UV']);
const PAD_WITH_NUL = new Set(['UI', 'OB', 'UN']);

export interface Element {
  tag: number; // (group << 16) | element
  bytes: Buffer; // the whole encoded element
}

function encodeHeader(tag: number, vr: string, length: number): Buffer {
  const long = LONG_VRS.has(vr);
  const h = Buffer.alloc(long ? 12 : 8);
  h.writeUInt16LE(tag >>> 16, 0);
  h.writeUInt16LE(tag & 0xffff, 2);
  h.write(vr, 4, 'latin1');
  if (long) h.writeUInt32LE(length, 8);
  else {
    if (length > 0xffff) throw new Error(`value too long for VR ${vr}: ${length}`);
    h.writeUInt16LE(length, 6);
  }
  return h;
}

function raw(tag: number, vr: string, value: Buffer): Element {
  let v = value;
  if (v.length % 2) v = Buffer.concat([v, Buffer.from([PAD_WITH_NUL.has(vr) ? 0 : 0x20])]);
  return { tag, bytes: Buffer.concat([encodeHeader(tag, vr, v.length), v]) };
}
export function str(tag: number, vr: string, value: string | number | Array<string | number>): Element {
  const s = Array.isArray(value) ? value.map(String).join('\\') : String(value);
  return raw(tag, vr, Buffer.from(s, 'latin1'));
}
export const ui = (tag: number, uid: string): Element => str(tag, 'UI', uid);
export function num(tag: number, vr: 'US' | 'SS' | 'UL' | 'SL', ...values: number[]): Element {
  const size = vr === 'US' || vr === 'SS' ? 2 : 4;
  const b = Buffer.alloc(values.length * size);
  values.forEach((v, i) => {
    if (vr === 'US') b.writeUInt16LE(v, i * 2);
    else if (vr === 'SS') b.writeInt16LE(v, i * 2);
    else if (vr === 'UL') b.writeUInt32LE(v, i * 4);
    else b.writeInt32LE(v, i * 4);
  });
  return raw(tag, vr, b);
}
export function at(tag: number, ...tags: number[]): Element {
  const b = Buffer.alloc(tags.length * 4);
  tags.forEach((t, i) => {
    b.writeUInt16LE(t >>> 16, i * 4);
    b.writeUInt16LE(t & 0xffff, i * 4 + 2);
  });
  return raw(tag, 'AT', b);
}

/** A sequence of defined length whose items hold `items`' elements (each item sorted by tag). */
export function sq(tag: number, items: Element[][]): Element {
  const encoded = items.map((elements) => {
    const body = Buffer.concat([...elements].sort((a, b) => a.tag - b.tag).map((e) => e.bytes));
    const head = Buffer.alloc(8);
    head.writeUInt16LE(0xfffe, 0);
    head.writeUInt16LE(0xe000, 2);
    head.writeUInt32LE(body.length, 4);
    return Buffer.concat([head, body]);
  });
  return raw(tag, 'SQ', Buffer.concat(encoded));
}

/** Decimal String value (max 16 characters). */
export function ds(x: number): string {
  for (let digits = 6; digits >= 0; digits--) {
    const s = String(Number(x.toFixed(digits)));
    if (s.length <= 16) return s;
  }
  throw new Error(`cannot encode ${x} as DS`);
}

export function t(group: number, element: number): number {
  return ((group << 16) | element) >>> 0;
}

/** 128-byte preamble, DICM, file meta information group (always explicit VR LE). */
function encodeMeta(sopClassUid: string, sopInstanceUid: string, transferSyntaxUid: string): Buffer {
  const elems = [
    raw(t(0x0002, 0x0001), 'OB', Buffer.from([0, 1])),
    ui(t(0x0002, 0x0002), sopClassUid),
    ui(t(0x0002, 0x0003), sopInstanceUid),
    ui(t(0x0002, 0x0010), transferSyntaxUid),
    ui(t(0x0002, 0x0012), IMPLEMENTATION_CLASS_UID),
    str(t(0x0002, 0x0013), 'SH', IMPLEMENTATION_VERSION),
  ];
  const body = Buffer.concat(elems.map((e) => e.bytes));
  const preamble = Buffer.alloc(132);
  preamble.write('DICM', 128, 'latin1');
  return Buffer.concat([preamble, num(t(0x0002, 0x0000), 'UL', body.length).bytes, body]);
}

/** Meta + dataset elements (sorted) + the Pixel Data element header (value follows). */
export function encodeFileHeader(sopClassUid: string, sopInstanceUid: string, elements: Element[], pixelBytes: number, pixelVr: 'OB' | 'OW'): Buffer {
  if (pixelBytes % 2 !== 0) throw new Error('pixel data length must be even');
  if (pixelBytes >= 0xfffffffe) throw new Error(`pixel data too large for one element: ${pixelBytes} bytes`);
  const sorted = [...elements].sort((a, b) => a.tag - b.tag);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].tag === sorted[i - 1].tag) throw new Error(`duplicate tag ${sorted[i].tag.toString(16)}`);
  }
  return Buffer.concat([
    encodeMeta(sopClassUid, sopInstanceUid, TS.explicitLE),
    ...sorted.map((e) => e.bytes),
    encodeHeader(t(0x7fe0, 0x0010), pixelVr, pixelBytes),
  ]);
}

export function dicomDate(d: Date): string {
  return d.toISOString().slice(0, 10).replace(/-/g, '');
}
export function dicomTime(d: Date): string {
  return d.toISOString().slice(11, 19).replace(/:/g, '');
}
export function shortId(): string {
  return randomBytes(3).toString('hex');
}

export interface PatientStudy {
  patientName?: string;
  patientId?: string;
  studyUid?: string;
  studyDescription?: string;
  accessionNumber?: string;
}

export function patientStudyElements(o: Required<PatientStudy>, now: Date): Element[] {
  return [
    str(t(0x0008, 0x0020), 'DA', dicomDate(now)),
    str(t(0x0008, 0x0030), 'TM', dicomTime(now)),
    str(t(0x0008, 0x0050), 'SH', o.accessionNumber),
    str(t(0x0008, 0x0090), 'PN', ''),
    str(t(0x0008, 0x1030), 'LO', o.studyDescription),
    str(t(0x0010, 0x0010), 'PN', o.patientName),
    str(t(0x0010, 0x0020), 'LO', o.patientId),
    str(t(0x0010, 0x0030), 'DA', '19700101'),
    str(t(0x0010, 0x0040), 'CS', 'O'),
    ui(t(0x0020, 0x000d), o.studyUid),
    str(t(0x0020, 0x0010), 'SH', '1'),
  ];
}

export function accession(): string {
  return `A${randomBytes(4).readUInt32LE(0) % 100_000_000}`;
}

/** Reads (0002,0002), (0002,0003), (0002,0010) from a Part 10 file's meta header. */
export function readMeta(file: string): { sopClassUid?: string; sopInstanceUid?: string; transferSyntaxUid?: string } {
  const fd = fs.openSync(file, 'r');
  const head = Buffer.alloc(4096);
  const n = fs.readSync(fd, head, 0, head.length, 0);
  fs.closeSync(fd);
  if (n < 144 || head.toString('latin1', 128, 132) !== 'DICM') throw new Error(`${file}: not a DICOM Part 10 file`);
  const out: { sopClassUid?: string; sopInstanceUid?: string; transferSyntaxUid?: string } = {};
  let pos = 132;
  while (pos + 8 <= n && head.readUInt16LE(pos) === 0x0002) {
    const elem = head.readUInt16LE(pos + 2);
    const vr = head.toString('latin1', pos + 4, pos + 6);
    let len: number;
    let valuePos: number;
    if (LONG_VRS.has(vr)) {
      len = head.readUInt32LE(pos + 8);
      valuePos = pos + 12;
    } else {
      len = head.readUInt16LE(pos + 6);
      valuePos = pos + 8;
    }
    const value = () => head.toString('latin1', valuePos, Math.min(n, valuePos + len)).replace(/[\0 ]+$/, '');
    if (elem === 0x0002) out.sopClassUid = value();
    if (elem === 0x0003) out.sopInstanceUid = value();
    if (elem === 0x0010) out.transferSyntaxUid = value();
    pos = valuePos + len;
  }
  return out;
}
