/**
 * Rendered images to JPEG and PNG. JPEG uses the IJG libjpeg encoder of dcmjs-codecs
 * (WebAssembly, already loaded for decoding): measured here on a 512x512 gray image at
 * 5.5 ms against 290 ms for jpeg-js. PNG uses fast-png (8-bit gray or RGB).
 */
import { encode as encodePng } from 'fast-png';
import { loadCodecs } from '../codecs/index.js';
import type { RenderedImage } from './render.js';

interface JpegEncoder {
  Context: new (attrs: Record<string, unknown>) => unknown;
  NativeCodecs: { encodeJpeg(ctx: unknown, params: { lossy: boolean; quality: number }): { getEncodedBuffer(): Uint8Array | undefined } };
}

/** Baseline JPEG (JFIF) of quality 1..100. */
export async function encodeJpeg(img: RenderedImage, quality = 90): Promise<Buffer> {
  const codecs = (await loadCodecs()) as unknown as JpegEncoder;
  const ctx = new codecs.Context({
    width: img.width,
    height: img.height,
    bitsAllocated: 8,
    bitsStored: 8,
    samplesPerPixel: img.channels,
    pixelRepresentation: 0,
    planarConfiguration: 0,
    photometricInterpretation: img.channels === 1 ? 'MONOCHROME2' : 'RGB',
    decodedBuffer: img.data,
  });
  const out = codecs.NativeCodecs.encodeJpeg(ctx, { lossy: true, quality: Math.max(1, Math.min(100, Math.round(quality))) }).getEncodedBuffer();
  if (!out) throw new Error('JPEG encoder returned nothing');
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

export function encodePngImage(img: RenderedImage): Buffer {
  const png = encodePng({ width: img.width, height: img.height, data: img.data, channels: img.channels, depth: 8 });
  return Buffer.from(png.buffer, png.byteOffset, png.byteLength);
}
