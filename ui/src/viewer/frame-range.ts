// A native grey frame's value range, found by the stack's fetch worker as it makes the
// frame's buffer, so that the page (raw-decode.ts) skips that pass and rescales in place.
// The page's part of a stack was about 2 ms a 512x512 frame, most of it the decoding's
// range pass and the new array it rescaled into; the worker touches each byte anyway.
// No DOM, no Cornerstone: unit-tested under Node.

/** The frames whose range the worker finds: one sample, 16 bits (signed only when all 16 are stored) or 8 bits unsigned. */
export interface GreyLayout {
  bitsAllocated: 8 | 16;
  signed: boolean;
}

/** A frame's smallest and largest stored value, and the layout they were read with. */
export interface FrameRange extends GreyLayout {
  min: number;
  max: number;
}

/**
 * The layout the range can be read in from the header's values, or undefined: colour, other
 * sizes, and signed values narrower than their container (they are sign-extended first on
 * the page, raw-decode.ts) are left to the page.
 */
export function greyLayoutOf(shape: {
  samplesPerPixel?: number;
  bitsAllocated?: number;
  bitsStored?: number;
  pixelRepresentation?: number;
}): GreyLayout | undefined {
  if ((shape.samplesPerPixel ?? 1) !== 1) return undefined;
  const signed = shape.pixelRepresentation === 1;
  if (shape.bitsAllocated === 16 && (!signed || (shape.bitsStored ?? 16) === 16)) return { bitsAllocated: 16, signed };
  if (shape.bitsAllocated === 8 && !signed) return { bitsAllocated: 8, signed: false };
  return undefined;
}

/**
 * `src` copied into a buffer of its own, of exactly its size (the loader views a decoded
 * frame's whole buffer), with the range of its values when `layout` is given and the
 * length fits it.
 */
export function copyWithRange(src: Uint8Array, layout?: GreyLayout): { body: Uint8Array; range?: FrameRange } {
  const body = new Uint8Array(src.length);
  body.set(src);
  if (!layout || src.length === 0 || src.length % (layout.bitsAllocated / 8)) return { body };
  const n = src.length / (layout.bitsAllocated / 8);
  const values = layout.bitsAllocated === 8 ? body : layout.signed ? new Int16Array(body.buffer, 0, n) : new Uint16Array(body.buffer, 0, n);
  let min = values[0];
  let max = min;
  for (let i = 1; i < n; i++) {
    const v = values[i];
    if (v < min) min = v;
    else if (v > max) max = v;
  }
  return { body, range: { ...layout, min, max } };
}

/** Ranges of frame buffers the page received from the worker and owns alone, until decoded. */
const ranges = new WeakMap<ArrayBuffer, FrameRange>();

/** Notes the range of a frame the page now owns (its whole buffer): its decoding may skip that pass and write in place. */
export function rememberRange(body: Uint8Array, range: FrameRange): void {
  if (body.byteOffset === 0 && body.byteLength === body.buffer.byteLength) ranges.set(body.buffer as ArrayBuffer, range);
}

/**
 * The range noted for exactly these bytes (the whole buffer) in this layout, forgotten as
 * it is taken: the decoding that takes it may overwrite the bytes, and a frame is decoded
 * once from the buffer it came in.
 */
export function takeRange(px: Uint8Array, layout: GreyLayout): FrameRange | undefined {
  const r = ranges.get(px.buffer as ArrayBuffer);
  if (!r) return undefined;
  ranges.delete(px.buffer as ArrayBuffer);
  const whole = px.byteOffset === 0 && px.byteLength === px.buffer.byteLength;
  return whole && r.bitsAllocated === layout.bitsAllocated && r.signed === layout.signed ? r : undefined;
}
