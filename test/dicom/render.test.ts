/**
 * The pixel pipeline (src/dicom/render): synthetic images with known stored values through
 * each photometric interpretation, signedness, rescale and window give the 8-bit values
 * the standard's formulas give; frames come out of Part 10 bytes (native little and big
 * endian, packed 1-bit, encapsulated with and without offset table) as stored.
 */
import { describe, expect, it } from 'vitest';
import jpeg from 'jpeg-js';
import { decode as decodePng } from 'fast-png';
import { Dataset } from '../../src/dicom/dataset.js';
import { putNumbers, putString, writeDataset } from '../../src/dicom/dataset-writer.js';
import { buildMetaHeader } from '../../src/dicom/part10.js';
import {
  applyViewport,
  bufferSource,
  describeImage,
  encodeJpeg,
  encodePngImage,
  PixelDataError,
  PixelFile,
  renderFrame,
  type ImagePixel,
  type NativeFrame,
  type RenderedImage,
  type Window,
} from '../../src/dicom/render/index.js';

interface Spec {
  rows: number;
  cols: number;
  bits?: number;
  stored?: number;
  highBit?: number;
  signed?: boolean;
  spp?: number;
  photometric?: string;
  planar?: number;
  frames?: number;
  slope?: number;
  intercept?: number;
  window?: [number, number];
  voiFn?: string;
}

function imageDataset(s: Spec): Dataset {
  const ds = new Dataset();
  putString(ds, 0x00080016, 'UI', '1.2.840.10008.5.1.4.1.1.7');
  putString(ds, 0x00080018, 'UI', '1.2.3.4');
  putNumbers(ds, 0x00280002, 'US', [s.spp ?? 1]);
  putString(ds, 0x00280004, 'CS', s.photometric ?? 'MONOCHROME2');
  if ((s.spp ?? 1) > 1) putNumbers(ds, 0x00280006, 'US', [s.planar ?? 0]);
  if (s.frames) putString(ds, 0x00280008, 'IS', String(s.frames));
  putNumbers(ds, 0x00280010, 'US', [s.rows]);
  putNumbers(ds, 0x00280011, 'US', [s.cols]);
  const bits = s.bits ?? 16;
  putNumbers(ds, 0x00280100, 'US', [bits]);
  putNumbers(ds, 0x00280101, 'US', [s.stored ?? bits]);
  putNumbers(ds, 0x00280102, 'US', [s.highBit ?? (s.stored ?? bits) - 1]);
  putNumbers(ds, 0x00280103, 'US', [s.signed ? 1 : 0]);
  if (s.window) {
    putString(ds, 0x00281050, 'DS', String(s.window[0]));
    putString(ds, 0x00281051, 'DS', String(s.window[1]));
  }
  if (s.voiFn) putString(ds, 0x00281056, 'CS', s.voiFn);
  if (s.intercept !== undefined) putString(ds, 0x00281052, 'DS', String(s.intercept));
  if (s.slope !== undefined) putString(ds, 0x00281053, 'DS', String(s.slope));
  return ds;
}

function words(values: number[]): Uint8Array {
  const b = Buffer.alloc(values.length * 2);
  values.forEach((v, i) => b.writeUInt16LE(v & 0xffff, 2 * i));
  return b;
}

function render(s: Spec, pixels: Uint8Array, window?: Window, ds = imageDataset(s)): RenderedImage {
  const img = describeImage(ds);
  const frame: NativeFrame = { pixels, photometricInterpretation: img.photometricInterpretation, planarConfiguration: img.planarConfiguration };
  return renderFrame(frame, img, { window });
}

/** PS3.3 C.11.2.1.2.1 (LINEAR), written out independently of the implementation. */
function linear(x: number, c: number, w: number): number {
  if (x <= c - 0.5 - (w - 1) / 2) return 0;
  if (x > c - 0.5 + (w - 1) / 2) return 255;
  return Math.round(((x - (c - 0.5)) / (w - 1) + 0.5) * 255);
}

describe('grayscale rendering', () => {
  const spec: Spec = { rows: 1, cols: 6, bits: 16, stored: 12 };
  const values = [0, 50, 99, 100, 150, 4095];

  it('applies the request window with the LINEAR function', () => {
    const out = render(spec, words(values), { center: 100, width: 101, fn: 'linear' });
    expect([...out.data]).toEqual(values.map((v) => linear(v, 100, 101)));
    expect(out.channels).toBe(1);
  });

  it('LINEAR_EXACT and SIGMOID follow their formulas', () => {
    const exact = render(spec, words(values), { center: 100, width: 100, fn: 'linear-exact' });
    expect([...exact.data]).toEqual([0, 0, Math.round((-1 / 100 + 0.5) * 255), 128, 255, 255]);
    const sig = render(spec, words(values), { center: 100, width: 100, fn: 'sigmoid' });
    expect([...sig.data]).toEqual(values.map((x) => Math.round(255 / (1 + Math.exp((-4 * (x - 100)) / 100)))));
  });

  it('uses the data set window when the request has none, and the request window over it', () => {
    const withDs: Spec = { ...spec, window: [150, 2] };
    expect([...render(withDs, words(values)).data]).toEqual(values.map((v) => linear(v, 150, 2)));
    expect([...render(withDs, words(values), { center: 2048, width: 4096, fn: 'linear' }).data]).toEqual(values.map((v) => linear(v, 2048, 4096)));
  });

  it('takes the VOI LUT Function from the data set', () => {
    const out = render({ ...spec, cols: 1, window: [100, 100], voiFn: 'SIGMOID' }, words([100]));
    expect(out.data[0]).toBe(128);
  });

  it('maps the frame min..max to 0..255 without any window', () => {
    const out = render({ ...spec, cols: 4 }, words([1000, 1051, 1100, 1255]));
    expect([...out.data]).toEqual([0, 51, 100, 255]);
  });

  it('masks Bits Stored, sign-extends signed pixels and applies Rescale Slope / Intercept', () => {
    // -5 in 12 bits, once sign-extended into 16 bits and once with zero high bits; +7; -2048; 2047.
    const raw = [0xfffb, 0x0ffb, 7, 0x800, 0x7ff];
    const s: Spec = { rows: 1, cols: 5, bits: 16, stored: 12, signed: true, slope: 2, intercept: 10 };
    const out = render(s, words(raw), { center: 0, width: 100, fn: 'linear-exact' });
    const modality = [-5, -5, 7, -2048, 2047].map((v) => v * 2 + 10);
    const exact = (x: number) => (x <= -50 ? 0 : x > 50 ? 255 : Math.round((x / 100 + 0.5) * 255));
    expect([...out.data]).toEqual(modality.map(exact));
    expect(out.data[0]).toBe(128);
  });

  it('honours a High Bit below Bits Allocated - 1 (stored bits not at the bottom)', () => {
    // 8 stored bits in bits 4..11; the low 4 bits and the top 4 are other data.
    const out = render({ rows: 1, cols: 2, bits: 16, stored: 8, highBit: 11 }, words([0xf00f | (200 << 4), 0xf00f | (10 << 4)]), {
      center: 128,
      width: 256,
      fn: 'linear-exact',
    });
    expect([...out.data]).toEqual([Math.round((72 / 256 + 0.5) * 255), Math.round((-118 / 256 + 0.5) * 255)]);
  });

  it('inverts MONOCHROME1', () => {
    const w: Window = { center: 100, width: 101, fn: 'linear' };
    const m2 = render(spec, words(values), w);
    const m1 = render({ ...spec, photometric: 'MONOCHROME1' }, words(values), w);
    expect([...m1.data]).toEqual([...m2.data].map((v) => 255 - v));
    expect(m1.data[0]).toBe(255);
  });

  it('renders 8-bit and 32-bit containers', () => {
    expect([...render({ rows: 1, cols: 3, bits: 8 }, Uint8Array.of(0, 128, 255)).data]).toEqual([0, 128, 255]);
    const b = Buffer.alloc(12);
    b.writeInt32LE(-100000, 0);
    b.writeInt32LE(0, 4);
    b.writeInt32LE(100000, 8);
    expect([...render({ rows: 1, cols: 3, bits: 32, signed: true }, b).data]).toEqual([0, 128, 255]);
  });

  it('reads 16-bit samples at an odd byte offset', () => {
    const backing = new Uint8Array(13);
    backing.set(words([0, 4095, 2048]), 1);
    expect([...render({ rows: 1, cols: 3, stored: 12 }, backing.subarray(1)).data]).toEqual([0, 255, 128]);
  });
});

describe('colour rendering', () => {
  const rgb = [
    [255, 0, 0],
    [0, 255, 0],
    [0, 0, 255],
    [10, 20, 30],
  ];

  it('RGB with Planar Configuration 0 and 1 gives the same interleaved pixels', () => {
    const inter = Uint8Array.from(rgb.flat());
    const planar = Uint8Array.from([0, 1, 2].flatMap((k) => rgb.map((p) => p[k])));
    const a = render({ rows: 2, cols: 2, bits: 8, spp: 3, photometric: 'RGB' }, inter);
    const b = render({ rows: 2, cols: 2, bits: 8, spp: 3, photometric: 'RGB', planar: 1 }, planar);
    expect(a.channels).toBe(3);
    expect([...a.data]).toEqual(rgb.flat());
    expect([...b.data]).toEqual(rgb.flat());
  });

  it('converts YBR_FULL and native YBR_FULL_422 to RGB', () => {
    // Red, green, blue, gray in YCbCr (JPEG/JFIF full range).
    const ybr = (r: number, g: number, b: number) =>
      [0.299 * r + 0.587 * g + 0.114 * b, -0.168736 * r - 0.331264 * g + 0.5 * b + 128, 0.5 * r - 0.418688 * g - 0.081312 * b + 128].map((v) =>
        Math.min(255, Math.round(v)),
      );
    const px = [
      [255, 0, 0],
      [0, 255, 0],
      [0, 0, 255],
      [128, 128, 128],
    ];
    const out = render({ rows: 1, cols: 4, bits: 8, spp: 3, photometric: 'YBR_FULL' }, Uint8Array.from(px.flatMap((p) => ybr(p[0], p[1], p[2]))));
    for (let i = 0; i < 4; i++) for (let k = 0; k < 3; k++) expect(Math.abs(out.data[i * 3 + k] - px[i][k])).toBeLessThanOrEqual(2);
    // 4:2:2: two gray pixels of different luminance share Cb = Cr = 128.
    const sub = render({ rows: 1, cols: 2, bits: 8, spp: 3, photometric: 'YBR_FULL_422' }, Uint8Array.of(40, 200, 128, 128));
    expect([...sub.data]).toEqual([40, 40, 40, 200, 200, 200]);
  });

  it('maps PALETTE COLOR through 8-bit and 16-bit tables, clamping outside the table', () => {
    for (const entryBits of [8, 16]) {
      const ds = imageDataset({ rows: 1, cols: 4, bits: 8, photometric: 'PALETTE COLOR' });
      const table = (f: (i: number) => number): Uint8Array => {
        const vals = Array.from({ length: 4 }, (_, i) => f(i));
        return entryBits === 16 ? words(vals.map((v) => v * 257)) : Uint8Array.from(vals);
      };
      // 4 entries, first mapped value 10.
      for (const [k, f] of [
        [0, (i: number) => i * 80],
        [1, (i: number) => 255 - i * 80],
        [2, () => 7],
      ] as const) {
        putNumbers(ds, 0x00281101 + k, 'US', [4, 10, entryBits]);
        const v = table(f);
        ds.put({ tag: 0x00281201 + k, vr: 'OW', length: v.length, value: v });
      }
      const out = render({ rows: 1, cols: 4, bits: 8 }, Uint8Array.of(10, 12, 13, 200), undefined, ds);
      expect([...out.data]).toEqual([0, 255, 7, 160, 95, 7, 240, 15, 7, 240, 15, 7]);
    }
  });
});

function part10(ds: Dataset, ts: string): Buffer {
  return Buffer.concat([buildMetaHeader({ sopClassUid: '1.2.840.10008.5.1.4.1.1.7', sopInstanceUid: '1.2.3.4', transferSyntaxUid: ts }), writeDataset(ds, ts)]);
}

describe('PixelFile frames', () => {
  it('returns native frames of a multi-frame image, little endian from a big endian file', async () => {
    const s: Spec = { rows: 2, cols: 3, bits: 16, frames: 3 };
    const frames = [0, 1, 2].map((f) => words(Array.from({ length: 6 }, (_, i) => 1000 * f + i * 300 + 1)));
    for (const ts of ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2', '1.2.840.10008.1.2.2']) {
      const ds = imageDataset(s);
      const all = Buffer.concat(frames);
      ds.put({ tag: 0x7fe00010, vr: 'OW', length: all.length, value: all });
      const f = await PixelFile.open(bufferSource(part10(ds, ts)));
      expect(f.frameCount).toBe(3);
      for (let i = 0; i < 3; i++) expect(Buffer.from(await f.storedFrame(i)).equals(frames[i])).toBe(true);
      await expect(f.storedFrame(3)).rejects.toThrow(/frame 4 does not exist: the instance has 3 frame/);
      await expect(f.storedFrame(3)).rejects.toBeInstanceOf(PixelDataError);
    }
  });

  it('realigns packed 1-bit frames that do not start on a byte boundary', async () => {
    // 3x3 frames: 9 bits each; frame 0 all ones, frame 1 a diagonal.
    const bits = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1];
    const packed = new Uint8Array(4);
    bits.forEach((b, i) => {
      packed[i >> 3] |= b << (i & 7);
    });
    const ds = imageDataset({ rows: 3, cols: 3, bits: 1, frames: 2 });
    ds.put({ tag: 0x7fe00010, vr: 'OB', length: 4, value: packed });
    const f = await PixelFile.open(bufferSource(part10(ds, '1.2.840.10008.1.2.1')));
    const frame = await f.nativeFrame(1);
    const out = renderFrame(frame, f.image);
    expect([...out.data]).toEqual([255, 0, 0, 0, 255, 0, 0, 0, 255]);
  });

  it('splits encapsulated frames by the Basic Offset Table and by start markers', async () => {
    const codestream = (n: number, len: number) => Buffer.from([0xff, 0xd8, ...Array(len - 4).fill(n), 0xff, 0xd9]);
    const frames = [codestream(1, 10), codestream(2, 14), codestream(3, 6)];
    for (const withBot of [true, false]) {
      const ds = imageDataset({ rows: 2, cols: 2, bits: 8, frames: 3 });
      // Frame 2 in two fragments.
      const frags = [frames[0], frames[1].subarray(0, 6), frames[1].subarray(6), frames[2]];
      const bot = Buffer.alloc(withBot ? 12 : 0);
      if (withBot) {
        bot.writeUInt32LE(0, 0);
        bot.writeUInt32LE(8 + 10, 4);
        bot.writeUInt32LE(8 + 10 + 8 + 6 + 8 + 8, 8);
      }
      ds.put({ tag: 0x7fe00010, vr: 'OB', length: 0xffffffff, fragments: [bot, ...frags].map((value, i) => ({ length: value.length, offset: i, value })) });
      const f = await PixelFile.open(bufferSource(part10(ds, '1.2.840.10008.1.2.4.50')));
      expect(f.encapsulated).toBe(true);
      for (let i = 0; i < 3; i++) expect(Buffer.from(await f.storedFrame(i)).equals(frames[i])).toBe(true);
      expect((await f.frameFragments(1)).length).toBe(2);
    }
  });

  it('says why a file without pixels or with truncated pixel data cannot be served', async () => {
    const noPixels = await PixelFile.open(bufferSource(part10(imageDataset({ rows: 2, cols: 2 }), '1.2.840.10008.1.2.1')));
    expect(() => noPixels.image).toThrow(/no Pixel Data/);
    const ds = imageDataset({ rows: 4, cols: 4, bits: 16, frames: 2 });
    ds.put({ tag: 0x7fe00010, vr: 'OW', length: 32, value: new Uint8Array(32) });
    const short = await PixelFile.open(bufferSource(part10(ds, '1.2.840.10008.1.2.1')));
    await expect(short.storedFrame(0)).rejects.toThrow(/Pixel Data has 32 bytes, 2 frame\(s\) of 4x4x1 at 16 bits need 64/);
    await expect(PixelFile.open(bufferSource(Buffer.from('not dicom at all')))).rejects.toThrow(/cannot be parsed/);
  });
});

describe('viewport and encoding', () => {
  const img: RenderedImage = { width: 4, height: 2, channels: 1, data: Uint8Array.of(0, 10, 20, 30, 40, 50, 60, 70) };

  it('shrinks by averaging, keeps the aspect ratio, crops and flips', () => {
    expect(applyViewport(img, { width: 2, height: 2 })).toEqual({ width: 2, height: 1, channels: 1, data: Uint8Array.of(25, 45) });
    expect([...applyViewport(img, { region: { x: 1, y: 0, width: 2, height: 2 } }).data]).toEqual([10, 20, 50, 60]);
    expect([...applyViewport(img, { region: { x: 0, y: 0, width: -4, height: 2 } }).data]).toEqual([30, 20, 10, 0, 70, 60, 50, 40]);
    expect(applyViewport(img, { width: 8 })).toMatchObject({ width: 8, height: 4 });
  });

  it('encodes PNG losslessly and JPEG to the right size', async () => {
    const png = decodePng(encodePngImage(img));
    expect([png.width, png.height, png.channels]).toEqual([4, 2, 1]);
    expect([...png.data]).toEqual([...img.data]);
    const rgb: RenderedImage = { width: 16, height: 8, channels: 3, data: new Uint8Array(16 * 8 * 3).fill(200) };
    const j = jpeg.decode(await encodeJpeg(rgb, 95), { useTArray: true });
    expect([j.width, j.height]).toEqual([16, 8]);
    expect(Math.abs(j.data[0] - 200)).toBeLessThanOrEqual(2);
  });
});

// Keeps the ImagePixel type import used for readers of this file.
export type { ImagePixel };
