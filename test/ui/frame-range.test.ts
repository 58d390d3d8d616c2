// A grey frame's range found by the stack's fetch worker (ui/src/viewer/frame-range.ts):
// the frame copied into a buffer of exactly its size with its smallest and largest value,
// and the range handed to the page's decoding once, for that whole buffer, in that layout.
import { describe, expect, it } from 'vitest';
import { copyWithRange, greyLayoutOf, rememberRange, takeRange } from '../../ui/src/viewer/frame-range.js';

const bytes = (a: Int16Array | Uint16Array | Uint8Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

describe('a frame’s range from the fetch worker', () => {
  it('reads the layout from the header: one sample of 16 bits, or 8 unsigned; signed only when all 16 bits are stored', () => {
    expect(greyLayoutOf({ samplesPerPixel: 1, bitsAllocated: 16, bitsStored: 12, pixelRepresentation: 0 })).toEqual({ bitsAllocated: 16, signed: false });
    expect(greyLayoutOf({ bitsAllocated: 16, bitsStored: 16, pixelRepresentation: 1 })).toEqual({ bitsAllocated: 16, signed: true });
    expect(greyLayoutOf({ bitsAllocated: 8, pixelRepresentation: 0 })).toEqual({ bitsAllocated: 8, signed: false });
    expect(greyLayoutOf({ bitsAllocated: 16, bitsStored: 12, pixelRepresentation: 1 })).toBeUndefined();
    expect(greyLayoutOf({ samplesPerPixel: 3, bitsAllocated: 8 })).toBeUndefined();
    expect(greyLayoutOf({ bitsAllocated: 8, pixelRepresentation: 1 })).toBeUndefined();
    expect(greyLayoutOf({ bitsAllocated: 32 })).toBeUndefined();
  });

  it('copies the frame into a buffer of its exact size, with the range of its signed, unsigned or 8-bit values', () => {
    const held = new Uint8Array(20);
    held.set(bytes(Int16Array.from([-1024, 3071, 0, -2000, 5])), 4);
    const signed = copyWithRange(held.subarray(4, 14), { bitsAllocated: 16, signed: true });
    expect(signed.body.buffer.byteLength).toBe(10);
    expect(signed.body.byteOffset).toBe(0);
    expect(Array.from(new Int16Array(signed.body.buffer))).toEqual([-1024, 3071, 0, -2000, 5]);
    expect(signed.range).toEqual({ bitsAllocated: 16, signed: true, min: -2000, max: 3071 });
    // The same bytes as unsigned: -1024 is 64512.
    expect(copyWithRange(held.subarray(4, 14), { bitsAllocated: 16, signed: false }).range).toMatchObject({ min: 0, max: 64512 });
    expect(copyWithRange(Uint8Array.from([7, 200, 3]), { bitsAllocated: 8, signed: false }).range).toMatchObject({ min: 3, max: 200 });
  });

  it('gives no range without a layout, for no bytes, or for a length the layout cannot hold', () => {
    expect(copyWithRange(Uint8Array.from([1, 2])).range).toBeUndefined();
    expect(copyWithRange(new Uint8Array(0), { bitsAllocated: 8, signed: false }).range).toBeUndefined();
    const odd = copyWithRange(Uint8Array.from([1, 2, 3]), { bitsAllocated: 16, signed: false });
    expect(odd.range).toBeUndefined();
    expect(Array.from(odd.body)).toEqual([1, 2, 3]);
  });

  it('hands the range to the decoding once, only for the whole buffer it was noted for and in the same layout', () => {
    const layout = { bitsAllocated: 16, signed: true } as const;
    const a = copyWithRange(bytes(Int16Array.from([1, -3, 9])), layout);
    rememberRange(a.body, a.range!);
    expect(takeRange(a.body, layout)).toEqual({ ...layout, min: -3, max: 9 });
    expect(takeRange(a.body, layout)).toBeUndefined();

    const b = copyWithRange(bytes(Int16Array.from([4, 5])), layout);
    rememberRange(b.body, b.range!);
    expect(takeRange(b.body, { bitsAllocated: 16, signed: false })).toBeUndefined();
    rememberRange(b.body, b.range!);
    expect(takeRange(b.body.subarray(2), layout)).toBeUndefined();

    // A view of part of a buffer is not noted: the decoding must not write over bytes it does not own.
    const c = copyWithRange(bytes(Int16Array.from([4, 5, 6, 7])), layout);
    rememberRange(c.body.subarray(0, 4), c.range!);
    expect(takeRange(c.body, layout)).toBeUndefined();
  });
});
