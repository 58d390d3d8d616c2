/**
 * Originals and encoded variants for the viewer's codec test (viewer-codecs.test.ts):
 * small uncompressed explicit VR LE images of every photometric interpretation and bit
 * depth the viewer must decode, written from pixel functions known here, and each turned
 * into the transfer syntaxes under test by DCMTK (dcmconv, dcmcjpeg, dcmcjpls, dcmcrle) or
 * dcmjs-codecs (JPEG 2000, HTJ2K). The expected pixels are computed here, in Node.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decompressDataset } from '../../src/dicom/codecs/index.js';
import { Dataset, getNumber } from '../../src/dicom/dataset.js';
import { putNumbers, putString, writeDataset } from '../../src/dicom/dataset-writer.js';
import { buildMetaHeader, readPart10 } from '../../src/dicom/part10.js';
import { mono8Pixel, multiFramePixel, newUid, readMeta, SOP_CLASS, TS } from '../../scripts/gen-test-data.js';
import { runDcmtk } from '../support/peers.js';
import { storedValues, writeJ2kVariant } from '../web/pixel-fixtures.js';

export const ROWS = 64;
export const COLS = 80; // not square: a row/column mix-up shows

export type OriginalName = 'mono8' | 'mono1' | 'signed16' | 'unsigned16' | 'unsigned12' | 'ct12' | 'rgb' | 'rgbPlanar' | 'ybrFull' | 'palette' | 'multiFrame';

export interface Original {
  name: OriginalName;
  photometric: string;
  frames: number;
  spp: 1 | 3;
  bitsAllocated: 8 | 16;
  bitsStored: number;
  signed: boolean;
  planar: boolean;
  /** Rescale Intercept (slope 1), when the original has one. */
  intercept?: number;
  /** The stored sample values, frame after frame, in the stored order (interleaved or planar). */
  stored: number[];
  /** What the viewer must show: grey (modality) values per pixel, or RGB triplets (interleaved), frame after frame. */
  expected: number[];
  /** Channels per pixel of `expected` (1 grey, 3 RGB). */
  channels: 1 | 3;
}

const PIXELS = ROWS * COLS;
const ramp = (c: number) => c / (COLS - 1);

/** Signed 16-bit CT-like: -1000 (air) outside a body whose values ramp from -600 to 2300, a 3000 rod, and the int16 extremes in two corner pixels. */
function signed16(r: number, c: number): number {
  if (r === 0 && c === 0) return -32768;
  if (r === 0 && c === 1) return 32767;
  if ((r - ROWS / 2) ** 2 + (c - COLS * 0.65) ** 2 <= (ROWS / 10) ** 2) return 3000;
  if ((r - ROWS / 2) ** 2 + (c - COLS / 2) ** 2 > (ROWS * 0.45) ** 2) return -1000;
  return Math.round(-600 + 2600 * ramp(c) + (300 * r) / (ROWS - 1));
}

/** Unsigned 16-bit over the full range: a ramp 0..65535, a 65535 disc, a line of 1000 every 8 rows. */
function unsigned16(r: number, c: number): number {
  if ((r - ROWS / 4) ** 2 + (c - COLS / 4) ** 2 <= (ROWS / 8) ** 2) return 65535;
  if (r % 8 === 0) return 1000;
  return Math.round(65535 * ramp(c));
}

/** Colour: red ramps along columns, green along rows, blue a checkerboard of 8-pixel squares, a yellow disc in the middle. */
function rgb(r: number, c: number): [number, number, number] {
  if ((r - ROWS / 2) ** 2 + (c - COLS / 2) ** 2 <= (ROWS / 8) ** 2) return [255, 255, 0];
  return [Math.round(255 * ramp(c)), Math.round((255 * r) / (ROWS - 1)), ((r >> 3) + (c >> 3)) % 2 ? 200 : 40];
}

/** The palette: index i maps to (i, 255 - i, 7i mod 256), stored as 16-bit entries. */
const paletteRgb = (i: number): [number, number, number] => [i, 255 - i, (i * 7) % 256];

/** RGB to YBR_FULL (PS3.3 C.7.6.3.1.2), rounded and clamped. */
function toYbrFull([R, G, B]: [number, number, number]): [number, number, number] {
  const clamp = (v: number) => Math.min(255, Math.max(0, Math.round(v)));
  return [clamp(0.299 * R + 0.587 * G + 0.114 * B), clamp(-0.168736 * R - 0.331264 * G + 0.5 * B + 128), clamp(0.5 * R - 0.418688 * G - 0.081312 * B + 128)];
}

function grid<T>(fn: (r: number, c: number) => T): T[] {
  const out: T[] = [];
  for (let r = 0; r < ROWS; r++) for (let c = 0; c < COLS; c++) out.push(fn(r, c));
  return out;
}

function grey(name: OriginalName, photometric: string, bitsAllocated: 8 | 16, bitsStored: number, signed: boolean, values: number[], frames = 1): Original {
  return { name, photometric, frames, spp: 1, bitsAllocated, bitsStored, signed, planar: false, stored: values, expected: values, channels: 1 };
}

export function originals(): Original[] {
  const mono8 = grid((r, c) => mono8Pixel(r, c, ROWS, COLS));
  const ct12 = grid((r, c) => Math.min(4095, Math.max(0, signed16(r, c) + 1024)));
  const colour = grid(rgb);
  const interleaved = colour.flat();
  const planar = [0, 1, 2].flatMap((k) => colour.map((p) => p[k]));
  const multi = [0, 1, 2].flatMap((f) => grid((r, c) => multiFramePixel(f, r, c, ROWS, COLS)));
  const colourOriginal = (name: OriginalName, photometric: string, stored: number[], isPlanar: boolean): Original => ({
    name,
    photometric,
    frames: 1,
    spp: 3,
    bitsAllocated: 8,
    bitsStored: 8,
    signed: false,
    planar: isPlanar,
    stored,
    expected: interleaved,
    channels: 3,
  });
  return [
    grey('mono8', 'MONOCHROME2', 8, 8, false, mono8),
    grey('mono1', 'MONOCHROME1', 8, 8, false, mono8),
    grey('signed16', 'MONOCHROME2', 16, 16, true, grid(signed16)),
    grey('unsigned16', 'MONOCHROME2', 16, 16, false, grid(unsigned16)),
    grey(
      'unsigned12',
      'MONOCHROME2',
      16,
      12,
      false,
      mono8.map((v) => Math.round((v * 4095) / 255)),
    ),
    // CT as most scanners store it: unsigned 12-bit, Rescale Intercept -1024 (air -1000 HU).
    { ...grey('ct12', 'MONOCHROME2', 16, 12, false, ct12), intercept: -1024, expected: ct12.map((v) => v - 1024) },
    colourOriginal('rgb', 'RGB', interleaved, false),
    colourOriginal('rgbPlanar', 'RGB', planar, true),
    colourOriginal('ybrFull', 'YBR_FULL', colour.flatMap(toYbrFull), false),
    { ...grey('palette', 'PALETTE COLOR', 8, 8, false, mono8), expected: mono8.flatMap(paletteRgb), channels: 3 },
    grey('multiFrame', 'MONOCHROME2', 16, 12, false, multi, 3),
  ];
}

/** The expected values of one frame. */
export function expectedFrame(o: Original, frame: number): number[] {
  const n = PIXELS * o.channels;
  return o.expected.slice(frame * n, (frame + 1) * n);
}

export interface Placement {
  studyUid: string;
  patientId: string;
  seriesUid: string;
  seriesNumber: number;
  description: string;
}

/** Writes an original as an explicit VR LE Part 10 file, as a series of its own in the given study. */
export function writeOriginal(o: Original, file: string, at: Placement): string {
  const ds = new Dataset();
  const sopUid = newUid();
  const sopClass = o.frames > 1 ? SOP_CLASS.multiFrameGrayscaleWordSC : SOP_CLASS.secondaryCapture;
  putString(ds, 0x00080016, 'UI', sopClass);
  putString(ds, 0x00080018, 'UI', sopUid);
  putString(ds, 0x00080020, 'DA', '20261128');
  putString(ds, 0x00080060, 'CS', 'OT');
  putString(ds, 0x00080064, 'CS', 'WSD');
  putString(ds, 0x0008103e, 'LO', at.description);
  putString(ds, 0x00100010, 'PN', 'CODECS^PHANTOM');
  putString(ds, 0x00100020, 'LO', at.patientId);
  putString(ds, 0x0020000d, 'UI', at.studyUid);
  putString(ds, 0x0020000e, 'UI', at.seriesUid);
  putString(ds, 0x00200011, 'IS', String(at.seriesNumber));
  putString(ds, 0x00200013, 'IS', '1');
  putString(ds, 0x00200032, 'DS', ['0', '0', '0']);
  putString(ds, 0x00200037, 'DS', ['1', '0', '0', '0', '1', '0']);
  putString(ds, 0x00200052, 'UI', at.studyUid);
  putNumbers(ds, 0x00280002, 'US', [o.spp]);
  putString(ds, 0x00280004, 'CS', o.photometric);
  if (o.spp === 3) putNumbers(ds, 0x00280006, 'US', [o.planar ? 1 : 0]);
  if (o.frames > 1) putString(ds, 0x00280008, 'IS', String(o.frames));
  putNumbers(ds, 0x00280010, 'US', [ROWS]);
  putNumbers(ds, 0x00280011, 'US', [COLS]);
  putString(ds, 0x00280030, 'DS', ['1', '1']);
  putNumbers(ds, 0x00280100, 'US', [o.bitsAllocated]);
  putNumbers(ds, 0x00280101, 'US', [o.bitsStored]);
  putNumbers(ds, 0x00280102, 'US', [o.bitsStored - 1]);
  putNumbers(ds, 0x00280103, 'US', [o.signed ? 1 : 0]);
  if (o.intercept !== undefined) {
    putString(ds, 0x00281052, 'DS', String(o.intercept));
    putString(ds, 0x00281053, 'DS', '1');
  }
  if (o.photometric === 'PALETTE COLOR') {
    const lut = Array.from({ length: 256 }, (_, i) => paletteRgb(i));
    for (let k = 0; k < 3; k++) {
      putNumbers(ds, 0x00281101 + k, 'US', [256, 0, 16]);
      putNumbers(
        ds,
        0x00281201 + k,
        'OW',
        lut.map((p) => p[k] * 257),
      );
    }
  }
  const bytes = Buffer.alloc(o.stored.length * (o.bitsAllocated / 8) + ((o.stored.length * (o.bitsAllocated / 8)) % 2));
  o.stored.forEach((v, i) => (o.bitsAllocated === 16 ? (o.signed ? bytes.writeInt16LE(v, i * 2) : bytes.writeUInt16LE(v, i * 2)) : bytes.writeUInt8(v, i)));
  ds.put({ tag: 0x7fe00010, vr: o.bitsAllocated === 16 ? 'OW' : 'OB', length: bytes.length, value: bytes });
  writeFileSync(
    file,
    Buffer.concat([buildMetaHeader({ sopClassUid: sopClass, sopInstanceUid: sopUid, transferSyntaxUid: TS.explicitLE }), writeDataset(ds, TS.explicitLE)]),
  );
  return file;
}

/** How a variant is made from its original's file. */
export type Encoder =
  | { kind: 'original' }
  | { kind: 'dcmtk'; tool: 'dcmconv' | 'dcmcjpeg' | 'dcmcjpls' | 'dcmcrle'; args: string[] }
  | { kind: 'j2k'; codec: 'jpeg2000' | 'htj2k'; lossy: boolean };

/**
 * Writes the variant `out` of `source` (uncompressed) and returns the transfer syntax it is
 * in. DCMTK's lossy encoders give the image a new SOP Instance UID; lossless ones keep it,
 * so the variant gets a new one (each file its own instance).
 */
export async function encodeVariant(source: string, out: string, enc: Encoder): Promise<string> {
  if (enc.kind === 'original') return TS.explicitLE;
  if (enc.kind === 'j2k') {
    await writeJ2kVariant(source, out, enc.codec, enc.lossy);
    return readMeta(out).transferSyntaxUid!;
  }
  const r = await runDcmtk(enc.tool, [...enc.args, source, out]);
  if (r.code !== 0) throw new Error(`${enc.tool} ${enc.args.join(' ')}: exit ${r.code}: ${r.stderr || r.stdout}`);
  const uid = await runDcmtk('dcmodify', ['-nb', '-gin', out]);
  if (uid.code !== 0) throw new Error(`dcmodify -gin: ${uid.stderr}`);
  return readMeta(out).transferSyntaxUid!;
}

export const variantFile = (dir: string, name: string) => join(dir, `${name}.dcm`);

/**
 * A lossy variant decoded by the server's decoders (dcmjs-codecs: IJG libjpeg, CharLS,
 * OpenJPEG, OpenJPH; colour to interleaved RGB), all frames: a second decoder to hold the
 * viewer's against, tighter than the distance to the original.
 */
export async function referenceDecode(file: string): Promise<number[]> {
  const { meta, dataset } = readPart10(readFileSync(file));
  await decompressDataset(dataset, meta.transferSyntaxUid);
  const bits = getNumber(dataset, 0x00280100)!;
  return storedValues(dataset.get(0x7fe00010)!.value!, bits, getNumber(dataset, 0x00280101)!, getNumber(dataset, 0x00280103) === 1);
}
