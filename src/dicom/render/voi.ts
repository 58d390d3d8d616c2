/**
 * Grayscale rendering: stored value -> Modality LUT (Rescale Slope / Intercept, PS3.3
 * C.11.1) -> VOI (PS3.3 C.11.2.1.2: LINEAR, LINEAR_EXACT, SIGMOID) -> 8 bits, with
 * MONOCHROME1 inverted. For up to 16 stored bits the whole chain is one lookup table
 * indexed by the masked stored bits, so the per-pixel loop is a shift, a mask and a load.
 */
import type { ImagePixel, Window } from './image-pixel.js';

/** 8-bit output of the VOI function for modality value x. */
export function voiValue(x: number, w: Window): number {
  const c = w.center,
    width = w.width;
  let y: number;
  if (w.fn === 'sigmoid') {
    y = 255 / (1 + Math.exp((-4 * (x - c)) / width));
  } else if (w.fn === 'linear-exact') {
    if (x <= c - width / 2) y = 0;
    else if (x > c + width / 2) y = 255;
    else y = ((x - c) / width + 0.5) * 255;
  } else {
    const lo = c - 0.5 - (width - 1) / 2;
    const hi = c - 0.5 + (width - 1) / 2;
    if (x <= lo) y = 0;
    else if (x > hi) y = 255;
    else y = width <= 1 ? 255 : ((x - (c - 0.5)) / (width - 1) + 0.5) * 255;
  }
  return y < 0 ? 0 : y > 255 ? 255 : Math.round(y);
}

/** How the stored bits sit in each sample container. */
export interface StoredBits {
  shift: number;
  mask: number;
  signBit: number;
  signed: boolean;
}

export function storedBits(img: ImagePixel): StoredBits {
  const bs = img.bitsStored;
  return {
    shift: img.highBit + 1 - bs,
    mask: bs >= 32 ? 0xffffffff : 2 ** bs - 1,
    signBit: 2 ** (bs - 1),
    signed: img.pixelRepresentation === 1,
  };
}

/** The sample containers of a frame as a typed array (copied when not aligned). */
export function sampleArray(pixels: Uint8Array, bitsAllocated: number, count: number): Uint8Array | Uint16Array | Uint32Array {
  if (bitsAllocated === 8) return pixels.subarray(0, count);
  if (bitsAllocated === 1) {
    const out = new Uint8Array(count);
    for (let i = 0; i < count; i++) out[i] = (pixels[i >> 3] >> (i & 7)) & 1;
    return out;
  }
  const size = bitsAllocated / 8;
  const aligned = pixels.byteOffset % size === 0 ? pixels : Uint8Array.from(pixels.subarray(0, count * size));
  return bitsAllocated === 16 ? new Uint16Array(aligned.buffer, aligned.byteOffset, count) : new Uint32Array(aligned.buffer, aligned.byteOffset, count);
}

/** Minimum and maximum stored value (sign applied) of the samples. */
function storedRange(samples: Uint8Array | Uint16Array | Uint32Array, b: StoredBits): [number, number] {
  let min = Number.POSITIVE_INFINITY,
    max = Number.NEGATIVE_INFINITY;
  const { shift, mask, signBit, signed } = b;
  const wrap = signBit * 2;
  for (let i = 0; i < samples.length; i++) {
    let s = (samples[i] >>> shift) & mask;
    if (b.mask === 0xffffffff) s >>>= 0;
    if (signed && s >= signBit) s -= wrap;
    if (s < min) min = s;
    if (s > max) max = s;
  }
  return [min, max];
}

/**
 * The 8-bit grayscale image of one frame's samples. `window` is the request's; else the
 * data set's; else the frame's full range of modality values (mapped linearly, exactly).
 */
export function renderGray(samples: Uint8Array | Uint16Array | Uint32Array, img: ImagePixel, window: Window | undefined): Uint8Array {
  const b = storedBits(img);
  const slope = img.rescaleSlope,
    intercept = img.rescaleIntercept;
  let w = window ?? img.window;
  if (!w) {
    const [smin, smax] = storedRange(samples, b);
    const m0 = smin * slope + intercept,
      m1 = smax * slope + intercept;
    const lo = Math.min(m0, m1),
      hi = Math.max(m0, m1);
    w = { center: (lo + hi) / 2, width: Math.max(hi - lo, 1e-6), fn: 'linear-exact' };
  }
  const invert = img.photometricInterpretation === 'MONOCHROME1';
  const out = new Uint8Array(samples.length);
  const { shift, mask, signBit, signed } = b;
  const wrap = signBit * 2;
  if (img.bitsStored <= 16) {
    const lut = new Uint8Array(mask + 1);
    for (let u = 0; u <= mask; u++) {
      const s = signed && u >= signBit ? u - wrap : u;
      const v = voiValue(s * slope + intercept, w);
      lut[u] = invert ? 255 - v : v;
    }
    for (let i = 0; i < samples.length; i++) out[i] = lut[(samples[i] >>> shift) & mask];
    return out;
  }
  for (let i = 0; i < samples.length; i++) {
    let s = ((samples[i] >>> shift) & mask) >>> 0;
    if (signed && s >= signBit) s -= wrap;
    const v = voiValue(s * slope + intercept, w);
    out[i] = invert ? 255 - v : v;
  }
  return out;
}
