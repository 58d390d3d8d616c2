/**
 * Colour frames to interleaved 8-bit RGB (PS3.3 C.7.6.3.1.2 and C.7.6.3.1.5): RGB and
 * YBR_FULL in either Planar Configuration, native YBR_FULL_422 / YBR_PARTIAL_422
 * (Y1 Y2 Cb Cr per pixel pair), and PALETTE COLOR through its lookup tables.
 */
import { PixelDataError } from './errors.js';
import type { ImagePixel, PaletteLut } from './image-pixel.js';
import { sampleArray, storedBits } from './voi.js';

const clamp8 = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

/** Samples reduced to 8 bits (Bits Stored above 8 shifted down). */
function samples8(pixels: Uint8Array, img: ImagePixel, count: number): Uint8Array {
  if (img.bitsAllocated === 8 && img.bitsStored === 8) return pixels.subarray(0, count);
  const s = sampleArray(pixels, img.bitsAllocated, count);
  const b = storedBits(img);
  const down = Math.max(0, img.bitsStored - 8);
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) out[i] = ((s[i] >>> b.shift) & b.mask) >>> down;
  return out;
}

function ybrFullToRgb(rgb: Uint8Array): void {
  for (let i = 0; i < rgb.length; i += 3) {
    const y = rgb[i],
      cb = rgb[i + 1] - 128,
      cr = rgb[i + 2] - 128;
    rgb[i] = clamp8(y + 1.402 * cr);
    rgb[i + 1] = clamp8(y - 0.344136 * cb - 0.714136 * cr);
    rgb[i + 2] = clamp8(y + 1.772 * cb);
  }
}

/** Interleaved RGB of a three-sample frame. */
export function renderColor(pixels: Uint8Array, img: ImagePixel, photometric: string, planar: number): Uint8Array {
  const n = img.rows * img.columns;
  if (photometric === 'YBR_FULL_422' || photometric === 'YBR_PARTIAL_422')
    return ybr422ToRgb(samples8(pixels, img, n * 2), img, photometric === 'YBR_PARTIAL_422');
  const s = samples8(pixels, img, n * 3);
  let rgb: Uint8Array;
  if (planar === 1) {
    rgb = new Uint8Array(n * 3);
    for (let i = 0, j = 0; i < n; i++, j += 3) {
      rgb[j] = s[i];
      rgb[j + 1] = s[n + i];
      rgb[j + 2] = s[2 * n + i];
    }
  } else {
    rgb = Uint8Array.from(s);
  }
  if (photometric === 'YBR_FULL') ybrFullToRgb(rgb);
  else if (photometric !== 'RGB') throw new PixelDataError('unsupported', `Photometric Interpretation ${photometric} is not supported for rendering`);
  return rgb;
}

function ybr422ToRgb(s: Uint8Array, img: ImagePixel, partial: boolean): Uint8Array {
  const n = img.rows * img.columns;
  const rgb = new Uint8Array(n * 3);
  const put = (p: number, y: number, cb: number, cr: number): void => {
    if (partial) {
      const yy = 1.1644 * (y - 16);
      rgb[p] = clamp8(yy + 1.596 * cr);
      rgb[p + 1] = clamp8(yy - 0.3918 * cb - 0.813 * cr);
      rgb[p + 2] = clamp8(yy + 2.0172 * cb);
    } else {
      rgb[p] = clamp8(y + 1.402 * cr);
      rgb[p + 1] = clamp8(y - 0.344136 * cb - 0.714136 * cr);
      rgb[p + 2] = clamp8(y + 1.772 * cb);
    }
  };
  for (let i = 0, j = 0; i < n; i += 2, j += 4) {
    const cb = s[j + 2] - 128,
      cr = s[j + 3] - 128;
    put(i * 3, s[j], cb, cr);
    if (i + 1 < n) put((i + 1) * 3, s[j + 1], cb, cr);
  }
  return rgb;
}

/** Interleaved RGB of a PALETTE COLOR frame: stored values below / above the table take its ends. */
export function renderPalette(pixels: Uint8Array, img: ImagePixel, lut: PaletteLut): Uint8Array {
  const n = img.rows * img.columns;
  const s = sampleArray(pixels, img.bitsAllocated, n);
  const b = storedBits(img);
  const rgb = new Uint8Array(n * 3);
  const last = lut.entries - 1,
    first = lut.firstMapped;
  const wrap = b.signBit * 2;
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    let v = (s[i] >>> b.shift) & b.mask;
    if (b.signed && v >= b.signBit) v -= wrap;
    let k = v - first;
    k = k < 0 ? 0 : k > last ? last : k;
    rgb[j] = lut.red[k];
    rgb[j + 1] = lut.green[k];
    rgb[j + 2] = lut.blue[k];
  }
  return rgb;
}
