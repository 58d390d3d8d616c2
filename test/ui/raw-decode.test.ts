// Uncompressed grey frames decoded on the page (ui/src/viewer/raw-decode.ts): the same
// pixels, array type, range and scaling flag as the image loader's worker makes of them
// (its own pure helpers give the expected values), and everything else left to the worker.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyWithRange, rememberRange } from '../../ui/src/viewer/frame-range.js';
import { decodeOnPage, decodesOnPage, type DecodeTaskArgs } from '../../ui/src/viewer/raw-decode.js';
import { REPO_ROOT } from '../support/peers.js';

const LOADER = join(REPO_ROOT, 'node_modules/@cornerstonejs/dicom-image-loader/dist/esm/shared');
type Range = { min: number; max: number };
const { default: getMinMax } = (await import(join(LOADER, 'getMinMax.js'))) as { default: (a: ArrayLike<number>) => Range };
const { default: typeFor } = (await import(join(LOADER, 'getPixelDataTypeFromMinMax.js'))) as {
  default: (min: number, max: number) => new (n: number) => ArrayLike<number> & { set(a: ArrayLike<number>): void };
};
const { default: scaleArray } = (await import(join(LOADER, 'scaling/scaleArray.js'))) as { default: (a: ArrayLike<number>, p: object) => void };

function task(
  values: number[],
  o: { signed?: boolean; bitsStored?: number; bits?: 8 | 16; ts?: string; scaling?: object; float?: boolean; offset?: number } = {},
): DecodeTaskArgs {
  const bits = o.bits ?? 16;
  const typed = bits === 8 ? Uint8Array.from(values) : o.signed ? Int16Array.from(values) : Uint16Array.from(values);
  const raw = new Uint8Array(typed.buffer);
  const offset = o.offset ?? 0;
  const holder = new Uint8Array(raw.length + offset);
  holder.set(raw, offset);
  return {
    imageFrame: {
      samplesPerPixel: 1,
      bitsAllocated: bits,
      bitsStored: o.bitsStored ?? bits,
      pixelRepresentation: o.signed ? 1 : 0,
      photometricInterpretation: 'MONOCHROME2',
    },
    transferSyntax: o.ts ?? '1.2.840.10008.1.2.1',
    pixelData: holder.subarray(offset),
    options: { allowFloatRendering: o.float ?? true, preScale: o.scaling ? { enabled: true, scalingParameters: o.scaling } : { enabled: false } },
  };
}

/** The array the loader's createImage makes of a decoded frame (setPixelDataType.js): `new Type(pixelData)`, Type from its range. */
function asLoaderMakesIt(f: ReturnType<typeof decodeOnPage>): ArrayLike<number> {
  const Type = typeFor(f.smallestPixelValue!, f.largestPixelValue!) as unknown as new (b: ArrayBuffer | ArrayLike<number>) => ArrayLike<number>;
  return new Type(f.pixelData!);
}

/** What the worker makes of plain values with a slope and intercept (decodeImageFrameWorker.js, its own helpers). */
function workerResult(values: number[], slope: number, intercept: number) {
  const { min, max } = getMinMax(values);
  const smin = slope * min + intercept;
  const smax = slope * max + intercept;
  const Type = typeFor(smin, smax);
  const out = new Type(values.length);
  out.set(values);
  scaleArray(out, { rescaleSlope: slope, rescaleIntercept: intercept, modality: 'CT' });
  return { out, min: smin, max: smax };
}

describe('raw frames decoded on the page', () => {
  it('CT, unsigned 16-bit with intercept -1024: the worker’s Int16Array, values, range and scaled flag', () => {
    const values = [0, 1024, 2048, 4095, 17, 3000];
    const t = task(values, { scaling: { rescaleSlope: 1, rescaleIntercept: -1024, modality: 'CT' } });
    expect(decodesOnPage(t)).toBe(true);
    const f = decodeOnPage(t);
    const want = workerResult(values, 1, -1024);
    // Handed over as its buffer, which the loader views in the type it picks (no copy).
    expect(f.pixelData).toBeInstanceOf(ArrayBuffer);
    const pixels = asLoaderMakesIt(f);
    expect(pixels).toBeInstanceOf(want.out.constructor);
    expect(pixels).toBeInstanceOf(Int16Array);
    expect(Array.from(pixels)).toEqual(Array.from(want.out));
    expect([f.smallestPixelValue, f.largestPixelValue]).toEqual([want.min, want.max]);
    expect(f.pixelDataLength).toBe(values.length);
    expect(f.preScale).toMatchObject({ enabled: true, scaled: true });
  });

  it('a fractional slope gives floats where the renderer takes them, and the unscaled values where it does not', () => {
    const values = [10, 20, 31];
    const scaling = { rescaleSlope: 0.5, rescaleIntercept: 1, modality: 'MR' };
    const f = decodeOnPage(task(values, { scaling }));
    expect(asLoaderMakesIt(f)).toBeInstanceOf(Float32Array);
    expect(Array.from(asLoaderMakesIt(f))).toEqual([6, 11, 16.5]);
    const g = decodeOnPage(task(values, { scaling, float: false }));
    expect(Array.from(asLoaderMakesIt(g))).toEqual(values);
    expect(asLoaderMakesIt(g)).toBeInstanceOf(Uint8Array);
    expect(g.preScale).toBeUndefined();
  });

  it('signed values narrower than 16 bits are sign-extended from Bits Stored; an unaligned frame is copied, not misread', () => {
    // 12-bit two's complement held in 16 bits: 0x0FFF is -1, 0x0800 is -2048.
    const f = decodeOnPage(task([0x0fff, 0x0800, 5], { signed: true, bitsStored: 12 }));
    expect(Array.from(asLoaderMakesIt(f))).toEqual([-1, -2048, 5]);
    expect([f.smallestPixelValue, f.largestPixelValue]).toEqual([-2048, 5]);
    const odd = decodeOnPage(task([300, 2, 65535], { offset: 1 }));
    expect(Array.from(asLoaderMakesIt(odd))).toEqual([300, 2, 65535]);
    expect(asLoaderMakesIt(odd)).toBeInstanceOf(Uint16Array);
  });

  it('a frame the fetch worker made, its range known, is rescaled in its own buffer to the same result', () => {
    const values = [0, 1024, 2048, 4095, 17, 3000];
    const scaling = { rescaleSlope: 1, rescaleIntercept: -1024, modality: 'CT' };
    const t = task(values, { scaling });
    const made = copyWithRange(t.pixelData, { bitsAllocated: 16, signed: false });
    rememberRange(made.body, made.range!);
    t.pixelData = made.body;
    const f = decodeOnPage(t);
    // No new array: the values were rescaled where they arrived.
    expect(f.pixelData).toBe(made.body.buffer);
    const want = workerResult(values, 1, -1024);
    expect(asLoaderMakesIt(f)).toBeInstanceOf(Int16Array);
    expect(Array.from(asLoaderMakesIt(f))).toEqual(Array.from(want.out));
    expect([f.smallestPixelValue, f.largestPixelValue]).toEqual([want.min, want.max]);

    // Unscaled, in the type the range picks: the buffer itself when the type is the one it came in, else a copy of another size.
    const mr = copyWithRange(new Uint8Array(Uint16Array.from([3, 900, 4000]).buffer), { bitsAllocated: 16, signed: false });
    rememberRange(mr.body, mr.range!);
    const g = decodeOnPage({ ...task([]), pixelData: mr.body });
    expect(g.pixelData).toBe(mr.body.buffer);
    expect(Array.from(asLoaderMakesIt(g))).toEqual([3, 900, 4000]);
    const small = copyWithRange(new Uint8Array(Uint16Array.from([3, 90, 200]).buffer), { bitsAllocated: 16, signed: false });
    rememberRange(small.body, small.range!);
    const h = decodeOnPage({ ...task([]), pixelData: small.body });
    expect(asLoaderMakesIt(h)).toBeInstanceOf(Uint8Array);
    expect(Array.from(asLoaderMakesIt(h))).toEqual([3, 90, 200]);
    expect(Array.from(new Uint16Array(small.body.buffer))).toEqual([3, 90, 200]);
  });

  it('leaves the worker everything else', () => {
    expect(decodesOnPage(task([1, 2], { bits: 8 }))).toBe(true);
    expect(decodesOnPage(task([1, 2], { ts: '1.2.840.10008.1.2.4.90' }))).toBe(false);
    expect(decodesOnPage(task([1, 2], { ts: '1.2.840.10008.1.2.2' }))).toBe(false); // big endian
    const rgb = task([1, 2, 3]);
    rgb.imageFrame.samplesPerPixel = 3;
    rgb.imageFrame.photometricInterpretation = 'RGB';
    expect(decodesOnPage(rgb)).toBe(false);
    const volume = task([1, 2]);
    volume.options!.targetBuffer = { type: 'Float32Array' };
    expect(decodesOnPage(volume)).toBe(false);
    expect(decodesOnPage(task([1, 2], { scaling: { rescaleSlope: 1, rescaleIntercept: 0, modality: 'PT', suvbw: 0.01 } }))).toBe(false);
    const short = task([1, 2]);
    short.pixelData = short.pixelData.subarray(0, 3);
    expect(decodesOnPage(short)).toBe(false);
  });
});
