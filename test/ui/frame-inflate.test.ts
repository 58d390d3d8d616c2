// Deflated frames made native again (ui/src/viewer/frame-inflate.ts), the output bounded
// by the frame size the header gives.
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { InflateError, inflateFrame, nativeFrameBytes } from '../../ui/src/viewer/frame-inflate.js';

/** A 16-bit frame of `n` pixels with a ramp and a plateau (what a CT slice looks like to deflate). */
function frame(n: number): Uint8Array {
  const px = new Int16Array(n);
  for (let i = 0; i < n; i++) px[i] = i % 97 < 40 ? -1000 : (i * 7) % 400;
  return new Uint8Array(px.buffer);
}

describe('frame inflate', () => {
  it('inflates a deflated frame to its bytes', async () => {
    const raw = frame(64 * 48);
    const deflated = deflateRawSync(raw, { level: 1 });
    expect(deflated.length).toBeLessThan(raw.length);
    const out = inflateFrame(new Uint8Array(deflated), raw.length).body;
    expect(Buffer.compare(Buffer.from(out), Buffer.from(raw))).toBe(0);
  });

  it('gives each frame a buffer of its own and exact size, and the range of its values when asked', () => {
    const big = frame(64 * 48);
    const small = Int16Array.from([-1000, 12, 399, -5]);
    const a = inflateFrame(new Uint8Array(deflateRawSync(big)), big.length);
    const b = inflateFrame(new Uint8Array(deflateRawSync(new Uint8Array(small.buffer))), 8, { bitsAllocated: 16, signed: true });
    // The smaller frame after the larger one: not a view of what was inflated before.
    expect(b.body.buffer.byteLength).toBe(8);
    expect(Array.from(new Int16Array(b.body.buffer))).toEqual([-1000, 12, 399, -5]);
    expect(b.range).toEqual({ bitsAllocated: 16, signed: true, min: -1000, max: 399 });
    expect(Buffer.compare(Buffer.from(a.body), Buffer.from(big))).toBe(0);
    expect(a.body.buffer).not.toBe(b.body.buffer);
    expect(a.range).toBeUndefined();
  });

  it('refuses a frame that inflates past its size (a bomb), short of it, damaged, or too large to be one', () => {
    const bomb = deflateRawSync(new Uint8Array(1 << 20));
    expect(bomb.length).toBeLessThan(1024 + 1024);
    expect(() => inflateFrame(new Uint8Array(bomb), 1024)).toThrow(new InflateError('the deflated frame holds more than the 1024 bytes of a frame'));
    const raw = frame(100);
    expect(() => inflateFrame(new Uint8Array(deflateRawSync(raw)), 300)).toThrow(new InflateError('the deflated frame holds 200 bytes, a frame 300'));
    const cut = deflateRawSync(frame(5000)).subarray(0, 50);
    expect(() => inflateFrame(new Uint8Array(cut), 10_000)).toThrow(InflateError);
    expect(() => inflateFrame(new Uint8Array([0xff, 0xff, 0xff, 0xff]), 10)).toThrow(InflateError);
    expect(() => inflateFrame(new Uint8Array(3000), 1000)).toThrow(new InflateError('the deflated frame has 3000 bytes, more than a frame of 1000 can need'));
  });

  it('sizes a native frame from its header, 1-bit frames packed', () => {
    expect(nativeFrameBytes({ rows: 512, columns: 512, bitsAllocated: 16 })).toBe(524_288);
    expect(nativeFrameBytes({ rows: 4, columns: 4, samplesPerPixel: 3, bitsAllocated: 8 })).toBe(48);
    expect(nativeFrameBytes({ rows: 3, columns: 3, bitsAllocated: 1 })).toBe(2);
    expect(nativeFrameBytes({ rows: 3, bitsAllocated: 16 })).toBeUndefined();
  });
});
