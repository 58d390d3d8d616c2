// Synthetic DICOM test data: CT series with real geometry and a phantom of known
// structure, every transfer syntax DCMTK can produce, multi-frame and 1 GB+ instances.
// Every call writes NEW UIDs. Files are hand-encoded explicit VR little endian Part 10
// (header built once per series, pixel data reused/patched), so 300 CT slices of
// 512x512 take about a second.
//
// CLI:
//   npx tsx scripts/gen-test-data.ts ct         --dir test-data/ct [--count 300] [--rows 512] [--cols 512]
//   npx tsx scripts/gen-test-data.ts variants   --dir test-data/ts
//   npx tsx scripts/gen-test-data.ts multiframe --dir test-data/mf [--frames 10] [--rows 256] [--cols 256]
//   npx tsx scripts/gen-test-data.ts large      --dir test-data/large [--bytes 1.1e9]
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

// ---------------------------------------------------------------------------
// UIDs and constants

/** A new UUID-derived UID (PS3.5 B.2: "2.25." + the UUID as one decimal integer). */
export function newUid(): string {
  const b = randomBytes(16);
  b[6] = (b[6] & 0x0f) | 0x40; // version 4
  b[8] = (b[8] & 0x3f) | 0x80; // variant
  return `2.25.${BigInt(`0x${b.toString('hex')}`).toString()}`;
}

export const TS = {
  implicitLE: '1.2.840.10008.1.2',
  explicitLE: '1.2.840.10008.1.2.1',
  deflatedLE: '1.2.840.10008.1.2.1.99',
  explicitBE: '1.2.840.10008.1.2.2',
  jpegBaseline: '1.2.840.10008.1.2.4.50',
  jpegExtended: '1.2.840.10008.1.2.4.51',
  jpegSpectral: '1.2.840.10008.1.2.4.53',
  jpegProgressive: '1.2.840.10008.1.2.4.55',
  jpegLossless: '1.2.840.10008.1.2.4.57',
  jpegLosslessSV1: '1.2.840.10008.1.2.4.70',
  jpegLsLossless: '1.2.840.10008.1.2.4.80',
  jpegLsNearLossless: '1.2.840.10008.1.2.4.81',
  jpeg2000Lossless: '1.2.840.10008.1.2.4.90',
  jpeg2000: '1.2.840.10008.1.2.4.91',
  rle: '1.2.840.10008.1.2.5',
  gePrivateImplicitLEBigEndianPixels: '1.2.840.113619.5.2',
} as const;

export const SOP_CLASS = {
  ct: '1.2.840.10008.5.1.4.1.1.2',
  secondaryCapture: '1.2.840.10008.5.1.4.1.1.7',
  multiFrameGrayscaleWordSC: '1.2.840.10008.5.1.4.1.1.7.3',
} as const;

/** Fixed implementation identity of this generator (a UUID-derived UID). */
const IMPLEMENTATION_CLASS_UID = '2.25.94650329843745390201796516254651862051';
const IMPLEMENTATION_VERSION = 'OPENPACS_GEN1';

// ---------------------------------------------------------------------------
// Minimal explicit VR little endian encoder (enough for flat image datasets)

const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT', 'SV', 'UV']);
const PAD_WITH_NUL = new Set(['UI', 'OB', 'UN']);

interface Element {
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
function str(tag: number, vr: string, value: string | number | Array<string | number>): Element {
  const s = Array.isArray(value) ? value.map(String).join('\\') : String(value);
  return raw(tag, vr, Buffer.from(s, 'latin1'));
}
const ui = (tag: number, uid: string): Element => str(tag, 'UI', uid);
function num(tag: number, vr: 'US' | 'SS' | 'UL' | 'SL', ...values: number[]): Element {
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
function at(tag: number, ...tags: number[]): Element {
  const b = Buffer.alloc(tags.length * 4);
  tags.forEach((t, i) => {
    b.writeUInt16LE(t >>> 16, i * 4);
    b.writeUInt16LE(t & 0xffff, i * 4 + 2);
  });
  return raw(tag, 'AT', b);
}

/** Decimal String value (max 16 characters). */
export function ds(x: number): string {
  for (let digits = 6; digits >= 0; digits--) {
    const s = String(Number(x.toFixed(digits)));
    if (s.length <= 16) return s;
  }
  throw new Error(`cannot encode ${x} as DS`);
}

function t(group: number, element: number): number {
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
function encodeFileHeader(
  sopClassUid: string,
  sopInstanceUid: string,
  elements: Element[],
  pixelBytes: number,
  pixelVr: 'OB' | 'OW',
): Buffer {
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

function dicomDate(d: Date): string {
  return d.toISOString().slice(0, 10).replace(/-/g, '');
}
function dicomTime(d: Date): string {
  return d.toISOString().slice(11, 19).replace(/:/g, '');
}
function shortId(): string {
  return randomBytes(3).toString('hex');
}

interface PatientStudy {
  patientName?: string;
  patientId?: string;
  studyUid?: string;
  studyDescription?: string;
  accessionNumber?: string;
}

function patientStudyElements(o: Required<PatientStudy>, now: Date): Element[] {
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

function accession(): string {
  return `A${randomBytes(4).readUInt32LE(0) % 100_000_000}`;
}

// ---------------------------------------------------------------------------
// CT phantom

/** Hounsfield values of the phantom's materials. */
export const HU = { air: -1000, water: 0, bone: 1000 } as const;
/** Stored value outside the reconstruction circle (Pixel Padding Value). */
export const CT_PADDING_VALUE = -2000;
export const CT_RESCALE_INTERCEPT = -1024;
export const CT_RESCALE_SLOPE = 1;

export type CtRegion = 'padding' | 'air' | 'water' | 'bone';

/**
 * Geometry of the CT phantom, all in patient coordinates (LPS, mm), image plane axial
 * (orientation 1\0\0\0\1\0), image centre at x = y = 0:
 *  - outside the inscribed reconstruction circle (radius fovRadius): padding (stored -2000)
 *  - a water cylinder (0 HU) of radius waterRadius centred at (0, 0), in air (-1000 HU)
 *  - a bone rod (1000 HU) centred at (boneX, boneY) (patient's left, anterior: breaks
 *    every flip and rotation), radius growing linearly from boneRadiusFirst on the first
 *    slice (instance 1) to boneRadiusLast on the last (catches slice-order errors).
 * A pixel (row r, col c) belongs to a circle when its centre is inside or on it.
 */
export interface CtPhantom {
  rows: number;
  cols: number;
  count: number;
  pixelSpacing: number; // mm, same for rows and columns
  sliceThickness: number; // mm, also the spacing between slices
  firstZ: number; // z of slice 0
  fovRadius: number;
  waterRadius: number;
  boneX: number;
  boneY: number;
  boneRadiusFirst: number;
  boneRadiusLast: number;
}

export function ctPhantom(o: { rows?: number; cols?: number; count?: number; fovMm?: number; sliceThickness?: number } = {}): CtPhantom {
  const rows = o.rows ?? 512;
  const cols = o.cols ?? 512;
  const fov = o.fovMm ?? 350;
  const pixelSpacing = Number((fov / Math.max(rows, cols)).toFixed(6));
  const minExtent = Math.min(rows, cols) * pixelSpacing;
  return {
    rows,
    cols,
    count: o.count ?? 300,
    pixelSpacing,
    sliceThickness: o.sliceThickness ?? 1.25,
    firstZ: 0,
    fovRadius: minExtent / 2,
    waterRadius: 0.35 * minExtent,
    boneX: 0.15 * minExtent,
    boneY: -0.1 * minExtent,
    boneRadiusFirst: 0.02 * minExtent,
    boneRadiusLast: 0.08 * minExtent,
  };
}

/** x, y (mm) of a pixel centre; the image centre is (0, 0). */
export function ctPixelPosition(p: CtPhantom, row: number, col: number): { x: number; y: number } {
  return { x: (col - (p.cols - 1) / 2) * p.pixelSpacing, y: (row - (p.rows - 1) / 2) * p.pixelSpacing };
}
export function ctSliceZ(p: CtPhantom, slice: number): number {
  return p.firstZ + slice * p.sliceThickness;
}
export function ctBoneRadius(p: CtPhantom, slice: number): number {
  const f = p.count > 1 ? slice / (p.count - 1) : 0.5;
  return p.boneRadiusFirst + (p.boneRadiusLast - p.boneRadiusFirst) * f;
}
/** Region of the pixel (row, col) on slice `slice` (0-based; instance number = slice + 1). */
export function ctRegion(p: CtPhantom, slice: number, row: number, col: number): CtRegion {
  const { x, y } = ctPixelPosition(p, row, col);
  return ctRegionAt(p, slice, x, y);
}
/** Region at (x, y) mm on slice `slice`. */
export function ctRegionAt(p: CtPhantom, slice: number, x: number, y: number): CtRegion {
  const r2 = x * x + y * y;
  if (r2 > p.fovRadius * p.fovRadius) return 'padding';
  if (r2 > p.waterRadius * p.waterRadius) return 'air';
  const br = ctBoneRadius(p, slice);
  const dx = x - p.boneX;
  const dy = y - p.boneY;
  return dx * dx + dy * dy <= br * br ? 'bone' : 'water';
}
/** Stored (raw) pixel value; HU = stored * slope + intercept except for padding. */
export function ctStoredValue(region: CtRegion): number {
  return region === 'padding' ? CT_PADDING_VALUE : HU[region] - CT_RESCALE_INTERCEPT;
}

function ctBasePixels(p: CtPhantom): Buffer {
  const buf = Buffer.alloc(p.rows * p.cols * 2);
  const vPad = ctStoredValue('padding');
  const vAir = ctStoredValue('air');
  const vWater = ctStoredValue('water');
  const fov2 = p.fovRadius * p.fovRadius;
  const w2 = p.waterRadius * p.waterRadius;
  for (let r = 0; r < p.rows; r++) {
    const y = (r - (p.rows - 1) / 2) * p.pixelSpacing;
    for (let c = 0; c < p.cols; c++) {
      const x = (c - (p.cols - 1) / 2) * p.pixelSpacing;
      const d2 = x * x + y * y;
      buf.writeInt16LE(d2 > fov2 ? vPad : d2 > w2 ? vAir : vWater, (r * p.cols + c) * 2);
    }
  }
  return buf;
}

function paintBone(p: CtPhantom, slice: number, buf: Buffer): void {
  const br = ctBoneRadius(p, slice);
  const vBone = ctStoredValue('bone');
  const c0 = Math.max(0, Math.floor((p.boneX - br) / p.pixelSpacing + (p.cols - 1) / 2));
  const c1 = Math.min(p.cols - 1, Math.ceil((p.boneX + br) / p.pixelSpacing + (p.cols - 1) / 2));
  const r0 = Math.max(0, Math.floor((p.boneY - br) / p.pixelSpacing + (p.rows - 1) / 2));
  const r1 = Math.min(p.rows - 1, Math.ceil((p.boneY + br) / p.pixelSpacing + (p.rows - 1) / 2));
  for (let r = r0; r <= r1; r++) {
    for (let c = c0; c <= c1; c++) {
      if (ctRegion(p, slice, r, c) === 'bone') buf.writeInt16LE(vBone, (r * p.cols + c) * 2);
    }
  }
}

/** The stored pixel data (Int16 LE) of one phantom slice. */
export function ctSlicePixels(p: CtPhantom, slice: number): Buffer {
  const buf = ctBasePixels(p);
  paintBone(p, slice, buf);
  return buf;
}

export interface CtSeriesOptions extends PatientStudy {
  dir: string;
  count?: number;
  rows?: number;
  cols?: number;
  /** Bits Stored (Bits Allocated is always 16, signed). Default 16; 12 suits JPEG 12-bit codecs. */
  bitsStored?: 12 | 16;
  sliceThickness?: number;
  fovMm?: number;
  seriesNumber?: number;
  seriesDescription?: string;
  /** File name prefix; default `ct-<random>-`. */
  prefix?: string;
  /**
   * A sagittal reformat of this axial phantom volume instead of axial slices: `count`
   * slices `sliceThickness` apart centred on x = 0, one row per axial slice (head at the
   * top), one column per axial row (anterior on the left); same frame of reference when
   * `frameOfReferenceUid` is given.
   */
  sagittalOf?: CtPhantom;
  frameOfReferenceUid?: string;
  /**
   * Gantry/Detector Tilt (degrees): slice i's Image Position moves along y by z * tan(tilt)
   * (the stack is sheared, image planes stay axial). Only the geometry: the pixels are
   * still the untilted phantom's (gen-phantom-volume writes tilt-consistent ones).
   */
  gantryTiltDegrees?: number;
}

/** y shift (mm) of a slice at `z` of a series acquired with `tiltDegrees` of gantry tilt. */
export function tiltShiftY(z: number, tiltDegrees = 0): number {
  return z * Math.tan((tiltDegrees * Math.PI) / 180);
}

interface SliceGeometry {
  rows: number;
  cols: number;
  /** Row spacing (between rows), column spacing (between columns), mm. */
  spacing: [number, number];
  orientation: number[];
  position(slice: number): [number, number, number];
  /** Stored pixels of a slice into `buf`. */
  paint(slice: number, buf: Buffer): void;
}

function axialGeometry(p: CtPhantom, tiltDegrees?: number): SliceGeometry {
  const base = ctBasePixels(p);
  const x0 = -((p.cols - 1) / 2) * p.pixelSpacing;
  const y0 = -((p.rows - 1) / 2) * p.pixelSpacing;
  return {
    rows: p.rows,
    cols: p.cols,
    spacing: [p.pixelSpacing, p.pixelSpacing],
    orientation: [1, 0, 0, 0, 1, 0],
    position: (i) => {
      const z = ctSliceZ(p, i);
      return [x0, y0 + tiltShiftY(z, tiltDegrees), z];
    },
    paint: (i, buf) => {
      base.copy(buf);
      paintBone(p, i, buf);
    },
  };
}

/** Sagittal slice i of the axial volume `v` at x = (i - (count - 1) / 2) * thickness. */
export function ctSagittalX(count: number, thickness: number, slice: number): number {
  return (slice - (count - 1) / 2) * thickness;
}

function sagittalGeometry(v: CtPhantom, count: number, thickness: number): SliceGeometry {
  const y0 = -((v.rows - 1) / 2) * v.pixelSpacing;
  const zTop = ctSliceZ(v, v.count - 1);
  return {
    rows: v.count,
    cols: v.rows,
    spacing: [v.sliceThickness, v.pixelSpacing],
    orientation: [0, 1, 0, 0, 0, -1],
    position: (i) => [ctSagittalX(count, thickness, i), y0, zTop],
    paint: (i, buf) => {
      const x = ctSagittalX(count, thickness, i);
      for (let r = 0; r < v.count; r++) {
        for (let c = 0; c < v.rows; c++) buf.writeInt16LE(ctStoredValue(ctRegionAt(v, v.count - 1 - r, x, y0 + c * v.pixelSpacing)), (r * v.rows + c) * 2);
      }
    },
  };
}

export interface CtSeriesResult {
  files: string[];
  studyUid: string;
  seriesUid: string;
  sopInstanceUids: string[];
  frameOfReferenceUid: string;
  patientId: string;
  phantom: CtPhantom;
}

/** Writes a CT series (one file per slice, explicit VR LE, 16-bit signed) with new UIDs. */
export async function writeCtSeries(o: CtSeriesOptions): Promise<CtSeriesResult> {
  const count = o.count ?? 300;
  const phantom = ctPhantom({ rows: o.rows, cols: o.cols, count, fovMm: o.fovMm, sliceThickness: o.sliceThickness });
  const bitsStored = o.bitsStored ?? 16;
  const now = new Date();
  const ps: Required<PatientStudy> = {
    patientName: o.patientName ?? 'PHANTOM^CT',
    patientId: o.patientId ?? 'PHANTOM-CT',
    studyUid: o.studyUid ?? newUid(),
    studyDescription: o.studyDescription ?? 'Synthetic CT phantom',
    accessionNumber: o.accessionNumber ?? accession(),
  };
  const seriesUid = newUid();
  const frameOfReferenceUid = o.frameOfReferenceUid ?? newUid();
  const geo = o.sagittalOf ? sagittalGeometry(o.sagittalOf, count, phantom.sliceThickness) : axialGeometry(phantom, o.gantryTiltDegrees);
  const seriesNumber = o.seriesNumber ?? 1;
  const prefix = o.prefix ?? `ct-${shortId()}-`;
  fs.mkdirSync(o.dir, { recursive: true });

  const common: Element[] = [
    ...patientStudyElements(ps, now),
    str(t(0x0008, 0x0008), 'CS', o.sagittalOf ? ['DERIVED', 'SECONDARY', 'REFORMATTED'] : ['ORIGINAL', 'PRIMARY', 'AXIAL']),
    str(t(0x0008, 0x0012), 'DA', dicomDate(now)),
    str(t(0x0008, 0x0013), 'TM', dicomTime(now)),
    ui(t(0x0008, 0x0016), SOP_CLASS.ct),
    str(t(0x0008, 0x0021), 'DA', dicomDate(now)),
    str(t(0x0008, 0x0023), 'DA', dicomDate(now)),
    str(t(0x0008, 0x0031), 'TM', dicomTime(now)),
    str(t(0x0008, 0x0033), 'TM', dicomTime(now)),
    str(t(0x0008, 0x0060), 'CS', 'CT'),
    str(t(0x0008, 0x0070), 'LO', 'OpenPACS synthetic'),
    str(t(0x0008, 0x103e), 'LO', o.seriesDescription ?? 'Water cylinder with bone rod'),
    str(t(0x0018, 0x0050), 'DS', ds(phantom.sliceThickness)),
    str(t(0x0018, 0x0060), 'DS', '120'),
    ...(o.gantryTiltDegrees !== undefined ? [str(t(0x0018, 0x1120), 'DS', ds(o.gantryTiltDegrees))] : []),
    str(t(0x0018, 0x5100), 'CS', 'HFS'),
    ui(t(0x0020, 0x000e), seriesUid),
    str(t(0x0020, 0x0011), 'IS', seriesNumber),
    str(t(0x0020, 0x0012), 'IS', 1),
    str(t(0x0020, 0x0037), 'DS', geo.orientation),
    ui(t(0x0020, 0x0052), frameOfReferenceUid),
    str(t(0x0020, 0x1040), 'LO', ''),
    num(t(0x0028, 0x0002), 'US', 1),
    str(t(0x0028, 0x0004), 'CS', 'MONOCHROME2'),
    num(t(0x0028, 0x0010), 'US', geo.rows),
    num(t(0x0028, 0x0011), 'US', geo.cols),
    str(t(0x0028, 0x0030), 'DS', geo.spacing.map(ds)),
    num(t(0x0028, 0x0100), 'US', 16),
    num(t(0x0028, 0x0101), 'US', bitsStored),
    num(t(0x0028, 0x0102), 'US', bitsStored - 1),
    num(t(0x0028, 0x0103), 'US', 1),
    num(t(0x0028, 0x0120), 'SS', CT_PADDING_VALUE),
    str(t(0x0028, 0x1050), 'DS', 40),
    str(t(0x0028, 0x1051), 'DS', 400),
    str(t(0x0028, 0x1052), 'DS', CT_RESCALE_INTERCEPT),
    str(t(0x0028, 0x1053), 'DS', CT_RESCALE_SLOPE),
    str(t(0x0028, 0x1054), 'LO', 'HU'),
  ];

  const pixels = Buffer.alloc(geo.rows * geo.cols * 2);
  const files: string[] = [];
  const sopInstanceUids: string[] = [];
  for (let i = 0; i < count; i++) {
    const sopInstanceUid = newUid();
    const position = geo.position(i);
    const header = encodeFileHeader(
      SOP_CLASS.ct,
      sopInstanceUid,
      [
        ...common,
        ui(t(0x0008, 0x0018), sopInstanceUid),
        str(t(0x0020, 0x0013), 'IS', i + 1),
        str(t(0x0020, 0x0032), 'DS', position.map(ds)),
        str(t(0x0020, 0x1041), 'DS', ds(o.sagittalOf ? position[0] : position[2])),
      ],
      pixels.length,
      'OW',
    );
    geo.paint(i, pixels);
    const file = path.join(o.dir, `${prefix}${String(i + 1).padStart(4, '0')}.dcm`);
    const fd = fs.openSync(file, 'w');
    try {
      fs.writevSync(fd, [header, pixels]);
    } finally {
      fs.closeSync(fd);
    }
    files.push(file);
    sopInstanceUids.push(sopInstanceUid);
  }
  return { files, studyUid: ps.studyUid, seriesUid, sopInstanceUids, frameOfReferenceUid, patientId: ps.patientId, phantom };
}

// ---------------------------------------------------------------------------
// Secondary capture sources (8-bit grey, RGB) for the transfer syntax variants

/** 8-bit grey test image: horizontal ramp (value = col * 255 / (cols-1)) with a white
 *  disc (255) of radius rows/8 centred at (row rows/4, col cols/4) and a black square
 *  (0) of side rows/8 at (row 3*rows/4, col 3*cols/4) (top-left corner). */
export function mono8Pixel(row: number, col: number, rows: number, cols: number): number {
  const dr = row - rows / 4;
  const dc = col - cols / 4;
  if (dr * dr + dc * dc <= (rows / 8) ** 2) return 255;
  const s = Math.floor(rows / 8);
  const r0 = Math.floor((3 * rows) / 4);
  const c0 = Math.floor((3 * cols) / 4);
  if (row >= r0 && row < r0 + s && col >= c0 && col < c0 + s) return 0;
  return Math.round((col * 255) / Math.max(1, cols - 1));
}

/** RGB test image (interleaved, planar configuration 0): quadrants red (top-left),
 *  green (top-right), blue (bottom-left), white (bottom-right), each 200 in its channels,
 *  with a yellow (255,255,0) disc of radius rows/8 at the centre. */
export function rgbPixel(row: number, col: number, rows: number, cols: number): [number, number, number] {
  const dr = row - rows / 2;
  const dc = col - cols / 2;
  if (dr * dr + dc * dc <= (rows / 8) ** 2) return [255, 255, 0];
  const top = row < rows / 2;
  const left = col < cols / 2;
  if (top && left) return [200, 0, 0];
  if (top) return [0, 200, 0];
  if (left) return [0, 0, 200];
  return [200, 200, 200];
}

async function writeSecondaryCapture(o: { dir: string; kind: 'mono8' | 'rgb'; rows?: number; cols?: number; file?: string }): Promise<string> {
  const rows = o.rows ?? 256;
  const cols = o.cols ?? 256;
  const rgb = o.kind === 'rgb';
  const pixels = Buffer.alloc(rows * cols * (rgb ? 3 : 1) + ((rows * cols * (rgb ? 3 : 1)) % 2));
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      if (rgb) pixels.set(rgbPixel(r, c, rows, cols), (r * cols + c) * 3);
      else pixels[r * cols + c] = mono8Pixel(r, c, rows, cols);
    }
  }
  const now = new Date();
  const sopInstanceUid = newUid();
  const elements: Element[] = [
    ...patientStudyElements(
      {
        patientName: 'PHANTOM^SC',
        patientId: 'PHANTOM-SC',
        studyUid: newUid(),
        studyDescription: `Synthetic ${o.kind}`,
        accessionNumber: accession(),
      },
      now,
    ),
    str(t(0x0008, 0x0008), 'CS', ['DERIVED', 'SECONDARY']),
    ui(t(0x0008, 0x0016), SOP_CLASS.secondaryCapture),
    ui(t(0x0008, 0x0018), sopInstanceUid),
    str(t(0x0008, 0x0060), 'CS', 'OT'),
    str(t(0x0008, 0x0064), 'CS', 'WSD'),
    ui(t(0x0020, 0x000e), newUid()),
    str(t(0x0020, 0x0011), 'IS', 1),
    str(t(0x0020, 0x0013), 'IS', 1),
    str(t(0x0020, 0x0020), 'CS', ''),
    num(t(0x0028, 0x0002), 'US', rgb ? 3 : 1),
    str(t(0x0028, 0x0004), 'CS', rgb ? 'RGB' : 'MONOCHROME2'),
    ...(rgb ? [num(t(0x0028, 0x0006), 'US', 0)] : []),
    num(t(0x0028, 0x0010), 'US', rows),
    num(t(0x0028, 0x0011), 'US', cols),
    num(t(0x0028, 0x0100), 'US', 8),
    num(t(0x0028, 0x0101), 'US', 8),
    num(t(0x0028, 0x0102), 'US', 7),
    num(t(0x0028, 0x0103), 'US', 0),
  ];
  fs.mkdirSync(o.dir, { recursive: true });
  const file = o.file ?? path.join(o.dir, `${o.kind}-${shortId()}.dcm`);
  const header = encodeFileHeader(SOP_CLASS.secondaryCapture, sopInstanceUid, elements, pixels.length, 'OB');
  fs.writeFileSync(file, Buffer.concat([header, pixels]));
  return file;
}

// ---------------------------------------------------------------------------
// Transfer syntax variants via DCMTK

function run(tool: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(tool, args, { env: { ...process.env, TCP_NODELAY: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', (e) => resolve({ code: -1, stdout, stderr: stderr + String(e) }));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
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

export type VariantSource = 'ct16' | 'mono8' | 'rgb';

interface VariantRecipe {
  name: string;
  transferSyntaxUid: string;
  lossy: boolean;
  /** false for private (non-standard) transfer syntaxes */
  standard: boolean;
  tool?: string;
  args?: string[];
  /** why no installed tool can produce it */
  unavailable?: string;
}

/** Every transfer syntax the installed DCMTK can write, plus the ones it cannot (reported as such). */
export const VARIANT_RECIPES: VariantRecipe[] = [
  { name: 'implicit-le', transferSyntaxUid: TS.implicitLE, lossy: false, standard: true, tool: 'dcmconv', args: ['+ti'] },
  { name: 'explicit-le', transferSyntaxUid: TS.explicitLE, lossy: false, standard: true, tool: 'dcmconv', args: ['+te'] },
  { name: 'explicit-be', transferSyntaxUid: TS.explicitBE, lossy: false, standard: true, tool: 'dcmconv', args: ['+tb'] },
  { name: 'deflated-le', transferSyntaxUid: TS.deflatedLE, lossy: false, standard: true, tool: 'dcmconv', args: ['+td'] },
  {
    name: 'ge-private-implicit-le-be-pixels',
    transferSyntaxUid: TS.gePrivateImplicitLEBigEndianPixels,
    lossy: false,
    standard: false,
    tool: 'dcmconv',
    args: ['+tg'],
  },
  { name: 'jpeg-baseline', transferSyntaxUid: TS.jpegBaseline, lossy: true, standard: true, tool: 'dcmcjpeg', args: ['+eb'] },
  { name: 'jpeg-extended', transferSyntaxUid: TS.jpegExtended, lossy: true, standard: true, tool: 'dcmcjpeg', args: ['+ee'] },
  { name: 'jpeg-spectral', transferSyntaxUid: TS.jpegSpectral, lossy: true, standard: true, tool: 'dcmcjpeg', args: ['+es'] },
  { name: 'jpeg-progressive', transferSyntaxUid: TS.jpegProgressive, lossy: true, standard: true, tool: 'dcmcjpeg', args: ['+ep'] },
  { name: 'jpeg-lossless', transferSyntaxUid: TS.jpegLossless, lossy: false, standard: true, tool: 'dcmcjpeg', args: ['+el'] },
  { name: 'jpeg-lossless-sv1', transferSyntaxUid: TS.jpegLosslessSV1, lossy: false, standard: true, tool: 'dcmcjpeg', args: ['+e1'] },
  { name: 'jpegls-lossless', transferSyntaxUid: TS.jpegLsLossless, lossy: false, standard: true, tool: 'dcmcjpls', args: ['+el'] },
  { name: 'jpegls-near-lossless', transferSyntaxUid: TS.jpegLsNearLossless, lossy: true, standard: true, tool: 'dcmcjpls', args: ['+en'] },
  { name: 'rle', transferSyntaxUid: TS.rle, lossy: false, standard: true, tool: 'dcmcrle', args: [] },
  {
    name: 'jpeg2000-lossless',
    transferSyntaxUid: TS.jpeg2000Lossless,
    lossy: false,
    standard: true,
    unavailable: 'DCMTK (free edition) has no JPEG 2000 encoder; no installed tool writes it',
  },
  {
    name: 'jpeg2000',
    transferSyntaxUid: TS.jpeg2000,
    lossy: true,
    standard: true,
    unavailable: 'DCMTK (free edition) has no JPEG 2000 encoder; no installed tool writes it',
  },
];

export type TransferSyntaxVariant = {
  name: string;
  source: VariantSource;
  transferSyntaxUid: string;
  lossy: boolean;
  standard: boolean;
  /** the uncompressed explicit VR LE original this variant was made from */
  sourceFile: string;
} & ({ ok: true; file: string } | { ok: false; file?: undefined; error: string });

/**
 * Writes three small originals (CT 128x128 16-bit signed with Bits Stored 12, 8-bit
 * MONOCHROME2 256x256, RGB 256x256) and converts each into every transfer syntax in
 * VARIANT_RECIPES. One entry per (source, syntax); entries DCMTK could not produce
 * have ok: false and the tool's error (e.g. JPEG baseline of 16-bit data).
 */
export async function writeTransferSyntaxVariants(o: { dir: string }): Promise<TransferSyntaxVariant[]> {
  fs.mkdirSync(o.dir, { recursive: true });
  const id = shortId();
  const ct = await writeCtSeries({ dir: o.dir, count: 1, rows: 128, cols: 128, bitsStored: 12, prefix: `src-ct16-${id}-` });
  const sources: Array<[VariantSource, string]> = [
    ['ct16', ct.files[0]],
    ['mono8', await writeSecondaryCapture({ dir: o.dir, kind: 'mono8', file: path.join(o.dir, `src-mono8-${id}.dcm`) })],
    ['rgb', await writeSecondaryCapture({ dir: o.dir, kind: 'rgb', file: path.join(o.dir, `src-rgb-${id}.dcm`) })],
  ];
  const jobs: Array<() => Promise<TransferSyntaxVariant>> = [];
  for (const [source, sourceFile] of sources) {
    for (const r of VARIANT_RECIPES) {
      const base = { name: r.name, source, transferSyntaxUid: r.transferSyntaxUid, lossy: r.lossy, standard: r.standard, sourceFile };
      jobs.push(async () => {
        if (!r.tool) return { ...base, ok: false, error: r.unavailable ?? 'no tool' };
        const file = path.join(o.dir, `${source}-${r.name}-${id}.dcm`);
        const res = await run(r.tool, [...(r.args ?? []), sourceFile, file]);
        if (res.code !== 0) {
          fs.rmSync(file, { force: true });
          return { ...base, ok: false, error: `${r.tool} ${(r.args ?? []).join(' ')} exited ${res.code}: ${(res.stderr || res.stdout).trim()}` };
        }
        // Lossless conversions keep the source's SOP Instance UID: give every variant its
        // own, so that a receiver keeps each one rather than treating it as a duplicate.
        const uid = await run('dcmodify', ['-nb', '-gin', file]);
        if (uid.code !== 0) return { ...base, ok: false, error: `dcmodify -gin exited ${uid.code}: ${uid.stderr.trim()}` };
        const got = readMeta(file).transferSyntaxUid;
        if (got !== r.transferSyntaxUid) {
          return { ...base, ok: false, error: `${r.tool} wrote transfer syntax ${got}, expected ${r.transferSyntaxUid}` };
        }
        return { ...base, ok: true, file };
      });
    }
  }
  // Two at a time (2 cores here).
  const results: TransferSyntaxVariant[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    [0, 1].map(async () => {
      while (next < jobs.length) {
        const i = next++;
        results[i] = await jobs[i]();
      }
    }),
  );
  return results;
}

// ---------------------------------------------------------------------------
// Multi-frame and 1 GB+ instances (streamed)

/**
 * Pixel (unsigned 16-bit, Bits Stored 12) of frame f: background (row + col) % 2048;
 * a disc of value 4095 and radius rows/8 centred at row rows/2, col
 * floor(cols/4 + (cols/2) * (f % 16) / 16) (moves with the frame); pixel (0, 0) holds
 * f % 4096 (the frame index: checks frame order cheaply).
 */
export function multiFramePixel(f: number, row: number, col: number, rows: number, cols: number): number {
  if (row === 0 && col === 0) return f % 4096;
  const cx = Math.floor(cols / 4 + ((cols / 2) * (f % 16)) / 16);
  const dr = row - rows / 2;
  const dc = col - cx;
  if (dr * dr + dc * dc <= (rows / 8) ** 2) return 4095;
  return (row + col) % 2048;
}

function multiFrameTemplate(rows: number, cols: number): Buffer {
  const b = Buffer.alloc(rows * cols * 2);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) b.writeUInt16LE((r + c) % 2048, (r * cols + c) * 2);
  return b;
}

function paintFrame(template: Buffer, out: Buffer, offset: number, f: number, rows: number, cols: number): void {
  template.copy(out, offset);
  const rad = rows / 8;
  const cx = Math.floor(cols / 4 + ((cols / 2) * (f % 16)) / 16);
  const r0 = Math.max(0, Math.floor(rows / 2 - rad));
  const r1 = Math.min(rows - 1, Math.ceil(rows / 2 + rad));
  const c0 = Math.max(0, Math.floor(cx - rad));
  const c1 = Math.min(cols - 1, Math.ceil(cx + rad));
  for (let r = r0; r <= r1; r++) {
    for (let c = c0; c <= c1; c++) {
      const dr = r - rows / 2;
      const dc = c - cx;
      if (dr * dr + dc * dc <= rad * rad) out.writeUInt16LE(4095, offset + (r * cols + c) * 2);
    }
  }
  out.writeUInt16LE(f % 4096, offset);
}

export interface MultiFrameResult {
  file: string;
  sopInstanceUid: string;
  studyUid: string;
  seriesUid: string;
  frames: number;
  rows: number;
  cols: number;
  pixelBytes: number;
  fileBytes: number;
}

/**
 * Writes one Multi-frame Grayscale Word Secondary Capture instance (explicit VR LE,
 * unsigned 16-bit, Bits Stored 12; pixels per multiFramePixel). Streams: the header,
 * then the pixel data in chunks of at most ~16 MB; memory use does not grow with size.
 */
export async function writeMultiFrame(o: {
  dir: string;
  frames?: number;
  rows?: number;
  cols?: number;
  file?: string;
  patientName?: string;
  patientId?: string;
  studyUid?: string;
}): Promise<MultiFrameResult> {
  const frames = o.frames ?? 10;
  const rows = o.rows ?? 256;
  const cols = o.cols ?? 256;
  const frameBytes = rows * cols * 2;
  const pixelBytes = frameBytes * frames;
  const now = new Date();
  const sopInstanceUid = newUid();
  const seriesUid = newUid();
  const studyUid = o.studyUid ?? newUid();
  const elements: Element[] = [
    ...patientStudyElements(
      {
        patientName: o.patientName ?? 'PHANTOM^MF',
        patientId: o.patientId ?? 'PHANTOM-MF',
        studyUid,
        studyDescription: 'Synthetic multi-frame',
        accessionNumber: accession(),
      },
      now,
    ),
    str(t(0x0008, 0x0008), 'CS', ['DERIVED', 'SECONDARY']),
    ui(t(0x0008, 0x0016), SOP_CLASS.multiFrameGrayscaleWordSC),
    ui(t(0x0008, 0x0018), sopInstanceUid),
    str(t(0x0008, 0x0060), 'CS', 'OT'),
    str(t(0x0008, 0x0064), 'CS', 'WSD'),
    str(t(0x0018, 0x1063), 'DS', 40),
    ui(t(0x0020, 0x000e), seriesUid),
    str(t(0x0020, 0x0011), 'IS', 1),
    str(t(0x0020, 0x0013), 'IS', 1),
    str(t(0x0020, 0x0020), 'CS', ''),
    num(t(0x0028, 0x0002), 'US', 1),
    str(t(0x0028, 0x0004), 'CS', 'MONOCHROME2'),
    str(t(0x0028, 0x0008), 'IS', frames),
    at(t(0x0028, 0x0009), t(0x0018, 0x1063)),
    num(t(0x0028, 0x0010), 'US', rows),
    num(t(0x0028, 0x0011), 'US', cols),
    num(t(0x0028, 0x0100), 'US', 16),
    num(t(0x0028, 0x0101), 'US', 12),
    num(t(0x0028, 0x0102), 'US', 11),
    num(t(0x0028, 0x0103), 'US', 0),
    str(t(0x0028, 0x1050), 'DS', 2048),
    str(t(0x0028, 0x1051), 'DS', 4096),
    str(t(0x0028, 0x1052), 'DS', 0),
    str(t(0x0028, 0x1053), 'DS', 1),
    str(t(0x0028, 0x1054), 'LO', 'US'),
  ];
  fs.mkdirSync(o.dir, { recursive: true });
  const file = o.file ?? path.join(o.dir, `mf-${shortId()}-${frames}x${rows}x${cols}.dcm`);
  const header = encodeFileHeader(SOP_CLASS.multiFrameGrayscaleWordSC, sopInstanceUid, elements, pixelBytes, 'OW');
  const template = multiFrameTemplate(rows, cols);
  const framesPerChunk = Math.max(1, Math.floor((16 * 1024 * 1024) / frameBytes));
  const chunk = Buffer.alloc(framesPerChunk * frameBytes);
  const fh = await fs.promises.open(file, 'w');
  try {
    await fh.write(header);
    for (let f = 0; f < frames; f += framesPerChunk) {
      const n = Math.min(framesPerChunk, frames - f);
      for (let k = 0; k < n; k++) paintFrame(template, chunk, k * frameBytes, f + k, rows, cols);
      await fh.write(chunk, 0, n * frameBytes); // awaited: the chunk is reused only after it is written
    }
  } finally {
    await fh.close();
  }
  return { file, sopInstanceUid, studyUid, seriesUid, frames, rows, cols, pixelBytes, fileBytes: header.length + pixelBytes };
}

/** A multi-frame instance whose pixel data is at least `bytes` (default 1.1e9) long,
 *  1024x1024 frames, streamed to disk (never the whole in memory). */
export async function writeLargeInstance(o: { dir: string; bytes?: number; rows?: number; cols?: number }): Promise<MultiFrameResult> {
  const rows = o.rows ?? 1024;
  const cols = o.cols ?? 1024;
  const frames = Math.ceil((o.bytes ?? 1.1e9) / (rows * cols * 2));
  return writeMultiFrame({ dir: o.dir, frames, rows, cols, file: path.join(o.dir, `large-${shortId()}-${frames}x${rows}x${cols}.dcm`) });
}

// ---------------------------------------------------------------------------
// CLI

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      dir: { type: 'string' },
      count: { type: 'string' },
      rows: { type: 'string' },
      cols: { type: 'string' },
      frames: { type: 'string' },
      bytes: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const cmd = positionals[0];
  const usage =
    'usage: gen-test-data.ts <ct|variants|multiframe|large> --dir DIR [--count N] [--rows N] [--cols N] [--frames N] [--bytes N]';
  if (values.help || !cmd || !values.dir) {
    console.log(usage);
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const n = (s: string | undefined): number | undefined => (s === undefined ? undefined : Number(s));
  const dir = values.dir;
  const started = performance.now();
  if (cmd === 'ct') {
    const r = await writeCtSeries({ dir, count: n(values.count), rows: n(values.rows), cols: n(values.cols) });
    console.log(`${r.files.length} CT files in ${dir}; study ${r.studyUid}; series ${r.seriesUid}`);
  } else if (cmd === 'variants') {
    const r = await writeTransferSyntaxVariants({ dir });
    for (const v of r) console.log(`${v.ok ? 'ok  ' : 'FAIL'} ${v.source.padEnd(6)} ${v.name.padEnd(34)} ${v.transferSyntaxUid.padEnd(24)} ${v.ok ? v.file : v.error}`);
  } else if (cmd === 'multiframe') {
    const r = await writeMultiFrame({ dir, frames: n(values.frames), rows: n(values.rows), cols: n(values.cols) });
    console.log(`${r.file}: ${r.frames} frames ${r.rows}x${r.cols}, ${r.fileBytes} bytes`);
  } else if (cmd === 'large') {
    const r = await writeLargeInstance({ dir, bytes: n(values.bytes), rows: n(values.rows), cols: n(values.cols) });
    console.log(`${r.file}: ${r.frames} frames ${r.rows}x${r.cols}, ${r.fileBytes} bytes`);
  } else {
    console.log(usage);
    process.exitCode = 2;
    return;
  }
  console.log(`done in ${((performance.now() - started) / 1000).toFixed(2)} s`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
