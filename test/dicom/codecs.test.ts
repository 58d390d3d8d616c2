/**
 * Decompression of encapsulated Pixel Data (src/dicom/codecs): JPEG 2000, HTJ2K, JPEG-LS
 * and RLE frames made by the codecs' own encoders from known pixels (no installed tool
 * writes JPEG 2000 or HTJ2K), multi-frame splitting with and without a Basic Offset
 * Table, and the attributes that change. JPEG and the DCMTK-made files are covered by
 * the interop test (C-MOVE to a storescp that accepts only uncompressed syntaxes).
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { canDecompress, decompressDataset, DecompressError, loadCodecs, splitFrames } from '../../src/dicom/codecs/index.js';
import { Dataset, getNumber, getString, type Element } from '../../src/dicom/dataset.js';
import { putNumbers, putString } from '../../src/dicom/dataset-writer.js';

interface EncoderContext {
  getEncodedBuffer(): Uint8Array;
}
type Encode = (ctx: unknown, params: Record<string, unknown>) => EncoderContext;
interface Codecs {
  Context: new (a: Record<string, unknown>) => unknown;
  NativeCodecs: Record<'encodeJpeg2000' | 'encodeHtJpeg2000' | 'encodeJpegLs' | 'encodeRle', Encode>;
}

const PIXEL_DATA = 0x7fe00010;

interface Image {
  rows: number;
  cols: number;
  spp: number;
  bits: 8 | 16;
  signed: boolean;
  frames: number;
}

/** Frame f of a test image: a gradient plus the frame index, negative values when signed. */
function framePixels(img: Image, f: number): Buffer {
  const n = img.rows * img.cols * img.spp;
  const b = Buffer.alloc(n * (img.bits / 8));
  for (let i = 0; i < n; i++) {
    if (img.bits === 8) b[i] = (i * 7 + f * 13) & 0xff;
    else if (img.signed) b.writeInt16LE(((i * 37 + f * 101) % 4096) - 2048, i * 2);
    else b.writeUInt16LE((i * 37 + f * 101) % 4096, i * 2);
  }
  return b;
}

function imageDataset(img: Image, photometric = img.spp === 3 ? 'RGB' : 'MONOCHROME2'): Dataset {
  const ds = new Dataset();
  putNumbers(ds, 0x00280002, 'US', [img.spp]);
  putString(ds, 0x00280004, 'CS', photometric);
  if (img.spp > 1) putNumbers(ds, 0x00280006, 'US', [0]);
  if (img.frames > 1) putString(ds, 0x00280008, 'IS', String(img.frames));
  putNumbers(ds, 0x00280010, 'US', [img.rows]);
  putNumbers(ds, 0x00280011, 'US', [img.cols]);
  putNumbers(ds, 0x00280100, 'US', [img.bits]);
  putNumbers(ds, 0x00280101, 'US', [img.bits === 16 ? 12 : 8]);
  putNumbers(ds, 0x00280103, 'US', [img.signed ? 1 : 0]);
  return ds;
}

async function encode(method: keyof Codecs['NativeCodecs'], img: Image, pixels: Buffer): Promise<Uint8Array> {
  await loadCodecs();
  const codecs = createRequire(import.meta.url)('dcmjs-codecs') as Codecs;
  const ctx = new codecs.Context({
    width: img.cols,
    height: img.rows,
    bitsAllocated: img.bits,
    bitsStored: img.bits === 16 ? 12 : 8,
    samplesPerPixel: img.spp,
    pixelRepresentation: img.signed ? 1 : 0,
    planarConfiguration: 0,
    photometricInterpretation: img.spp === 3 ? 'RGB' : 'MONOCHROME2',
    decodedBuffer: new Uint8Array(pixels),
  });
  return Uint8Array.from(codecs.NativeCodecs[method](ctx, { lossy: false }).getEncodedBuffer());
}

function encapsulated(frames: Uint8Array[], opts: { bot?: boolean; split?: number } = {}): Element {
  const fragments: Uint8Array[] = [];
  const offsets: number[] = [];
  let pos = 0;
  for (const f of frames) {
    offsets.push(pos);
    // Optionally cut a frame into several fragments (even lengths, as PS3.5 A.4 requires).
    const parts = opts.split ?? 1;
    const size = Math.ceil(f.length / parts / 2) * 2;
    for (let o = 0; o < f.length; o += size) {
      let part = f.subarray(o, Math.min(f.length, o + size));
      if (part.length % 2) part = Buffer.concat([part, Buffer.alloc(1)]);
      fragments.push(part);
      pos += 8 + part.length;
    }
  }
  const bot = Buffer.alloc(opts.bot ? 4 * frames.length : 0);
  if (opts.bot) offsets.forEach((o, i) => bot.writeUInt32LE(o, 4 * i));
  return {
    tag: PIXEL_DATA,
    vr: 'OB',
    length: 0xffffffff,
    fragments: [bot, ...fragments].map((value, i) => ({ length: value.length, offset: i, value })),
  };
}

const CASES: [string, string, keyof Codecs['NativeCodecs'], Image][] = [
  ['JPEG 2000 lossless, 16-bit signed', '1.2.840.10008.1.2.4.90', 'encodeJpeg2000', { rows: 32, cols: 48, spp: 1, bits: 16, signed: true, frames: 1 }],
  ['JPEG 2000 lossless, RGB, 3 frames', '1.2.840.10008.1.2.4.90', 'encodeJpeg2000', { rows: 24, cols: 16, spp: 3, bits: 8, signed: false, frames: 3 }],
  [
    'HTJ2K lossless, 16-bit unsigned, 2 frames',
    '1.2.840.10008.1.2.4.201',
    'encodeHtJpeg2000',
    { rows: 32, cols: 32, spp: 1, bits: 16, signed: false, frames: 2 },
  ],
  ['HTJ2K lossless RPCL, RGB', '1.2.840.10008.1.2.4.202', 'encodeHtJpeg2000', { rows: 16, cols: 16, spp: 3, bits: 8, signed: false, frames: 1 }],
  ['JPEG-LS lossless, 16-bit signed, 4 frames', '1.2.840.10008.1.2.4.80', 'encodeJpegLs', { rows: 20, cols: 20, spp: 1, bits: 16, signed: true, frames: 4 }],
  ['RLE, RGB, 2 frames', '1.2.840.10008.1.2.5', 'encodeRle', { rows: 17, cols: 9, spp: 3, bits: 8, signed: false, frames: 2 }],
  ['RLE, 16-bit signed', '1.2.840.10008.1.2.5', 'encodeRle', { rows: 31, cols: 7, spp: 1, bits: 16, signed: true, frames: 1 }],
];

describe('decompressDataset', () => {
  it.each(CASES)('%s decodes to the original pixels', async (_what, ts, method, img) => {
    const raw = Array.from({ length: img.frames }, (_, f) => framePixels(img, f));
    const frames = await Promise.all(raw.map((p) => encode(method, img, p)));
    // With a Basic Offset Table and each frame in three fragments (JPEG family codestreams only split by table).
    for (const layout of [{ bot: false }, { bot: true, split: 3 }]) {
      const ds = imageDataset(img);
      ds.put(encapsulated(frames, layout));
      expect(canDecompress(ts)).toBe(true);
      await decompressDataset(ds, ts);
      const el = ds.get(PIXEL_DATA)!;
      expect(el.fragments).toBeUndefined();
      expect(el.vr).toBe(img.bits === 16 ? 'OW' : 'OB');
      const expected = Buffer.concat(raw);
      expect(Buffer.from(el.value!).subarray(0, expected.length).equals(expected)).toBe(true);
      expect(el.value!.length % 2).toBe(0);
      expect(getString(ds, 0x00280004)).toBe(img.spp === 3 ? 'RGB' : 'MONOCHROME2');
    }
  });

  it('takes the colour space conversion into account (YBR_RCT of JPEG 2000 becomes RGB)', async () => {
    const img: Image = { rows: 8, cols: 8, spp: 3, bits: 8, signed: false, frames: 1 };
    const ds = imageDataset(img, 'YBR_RCT');
    ds.put(encapsulated([await encode('encodeJpeg2000', img, framePixels(img, 0))]));
    await decompressDataset(ds, '1.2.840.10008.1.2.4.90');
    expect(getString(ds, 0x00280004)).toBe('RGB');
    expect(getNumber(ds, 0x00280006)).toBe(0);
  });

  it('refuses what it cannot decode, with the reason', async () => {
    expect(canDecompress('1.2.840.10008.1.2.4.100')).toBe(false);
    const img: Image = { rows: 8, cols: 8, spp: 1, bits: 8, signed: false, frames: 1 };
    const ds = imageDataset(img);
    ds.put(encapsulated([Buffer.from('not a codestream')]));
    await expect(decompressDataset(ds, '1.2.840.10008.1.2.4.90')).rejects.toThrow(/jpeg2000 decoder/);
    await expect(decompressDataset(imageDataset(img), '1.2.840.10008.1.2.4.100')).rejects.toThrow(DecompressError);
  });
});

describe('splitFrames', () => {
  const jpeg = (n: number) => Buffer.from([0xff, 0xd8, n, n, n, n, n, n, 0xff, 0xd9]);
  it('splits by start markers when there is no Basic Offset Table', () => {
    const el = encapsulated([jpeg(1), jpeg(2)], { split: 2 });
    expect(el.fragments!.length).toBe(1 + 4);
    const frames = splitFrames(el, 2, 'jpeg');
    expect(frames.map((f) => Buffer.from(f).toString('hex'))).toEqual([jpeg(1).toString('hex'), jpeg(2).toString('hex')]);
  });
  it('says so when fragments and frames cannot be matched', () => {
    const el = encapsulated([jpeg(1)]);
    expect(() => splitFrames(el, 3, 'jpeg')).toThrow(/cannot split 1 fragments into 3 frames/);
  });
});
