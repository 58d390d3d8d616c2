// Frames sent in Deflated Image Frame Compression (1.2.840.10008.1.2.8.1: each frame's
// native little-endian bytes, raw deflate) made native again before the loader sees them:
// the stack's batches ask for it because delivering a response's bytes to the page is what
// bounds a stack's arrival (about 40 MB/s under test on two cores), and a CT frame deflates
// to a fraction. fflate, not the browser's DecompressionStream: that hands its output over
// in 64 KB chunks, a task each, about 20 ms a 512 KB frame here against 1-2 ms. The output
// is bounded by the frame's size from the header (a hostile part cannot inflate past it).
// No DOM, no Cornerstone: unit-tested under Node.
import { inflateSync } from 'fflate';
import { copyWithRange, type FrameRange, type GreyLayout } from './frame-range.js';

export const DEFLATED_IMAGE_FRAME = '1.2.840.10008.1.2.8.1';
export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';

/** Thrown when a deflated frame is damaged or does not inflate to the size its header gives. */
export class InflateError extends Error {
  override readonly name = 'InflateError';
}

/** Bytes of one native frame: rows x columns x samples x bits allocated (1-bit frames packed). */
export function nativeFrameBytes(shape: { rows?: number; columns?: number; samplesPerPixel?: number; bitsAllocated?: number }): number | undefined {
  const { rows, columns, samplesPerPixel = 1, bitsAllocated } = shape;
  if (!rows || !columns || !bitsAllocated) return undefined;
  return Math.ceil((rows * columns * samplesPerPixel * bitsAllocated) / 8);
}

/** A deflated frame larger than this is not one: deflate adds at most 5 bytes per 64 KB stored block. */
const maxDeflatedBytes = (size: number) => size + (size >> 10) + 1024;

/** A frame larger than this is inflated into a buffer of its own, not into the kept scratch buffer. */
const MAX_SCRATCH_BYTES = 16 * 1024 * 1024;
let scratch = new Uint8Array(0);

/**
 * `deflated` inflated, in a buffer of exactly `size` bytes, with its values' range when
 * `layout` says how to read them (frame-range.ts); InflateError when it holds more, fewer
 * or is damaged. Memory: the frame's buffer and a scratch buffer kept for the next frame;
 * work: at most deflate's 1032:1 of an input itself bounded by the frame's size.
 */
export function inflateFrame(deflated: Uint8Array, size: number, layout?: GreyLayout): { body: Uint8Array; range?: FrameRange } {
  if (deflated.length > maxDeflatedBytes(size))
    throw new InflateError(`the deflated frame has ${deflated.length} bytes, more than a frame of ${size} can need`);
  // At least one byte more than a frame: fflate writes into the buffer given and drops what
  // does not fit, so a spare byte written means the data holds more than a frame. The
  // scratch buffer is reused (no new zeroed buffer per frame); the frame is copied out of it.
  let into = scratch;
  if (into.length < size + 1) {
    into = new Uint8Array(size + 1);
    if (size + 1 <= MAX_SCRATCH_BYTES) scratch = into;
  }
  let out: Uint8Array;
  try {
    out = inflateSync(deflated, { out: into });
  } catch (e) {
    throw new InflateError(`the deflated frame is damaged (${(e as Error).message})`);
  }
  if (out.length > size) throw new InflateError(`the deflated frame holds more than the ${size} bytes of a frame`);
  if (out.length !== size) throw new InflateError(`the deflated frame holds ${out.length} bytes, a frame ${size}`);
  return copyWithRange(out, layout);
}
