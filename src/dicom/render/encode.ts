/** Rendered images to JPEG (jpeg-js, baseline) and PNG (fast-png, 8-bit gray or RGB). */
import jpeg from 'jpeg-js';
import { encode as encodePng } from 'fast-png';
import type { RenderedImage } from './render.js';

/** JPEG of quality 1..100 (jpeg-js takes RGBA whatever the channels). */
export function encodeJpeg(img: RenderedImage, quality = 90): Buffer {
  const n = img.width * img.height;
  const rgba = Buffer.allocUnsafe(n * 4);
  const s = img.data;
  if (img.channels === 1) {
    for (let i = 0, j = 0; i < n; i++, j += 4) { const v = s[i]; rgba[j] = v; rgba[j + 1] = v; rgba[j + 2] = v; rgba[j + 3] = 255; }
  } else {
    for (let i = 0, j = 0, k = 0; i < n; i++, j += 4, k += 3) { rgba[j] = s[k]; rgba[j + 1] = s[k + 1]; rgba[j + 2] = s[k + 2]; rgba[j + 3] = 255; }
  }
  return jpeg.encode({ width: img.width, height: img.height, data: rgba }, quality).data;
}

export function encodePngImage(img: RenderedImage): Buffer {
  const png = encodePng({ width: img.width, height: img.height, data: img.data, channels: img.channels, depth: 8 });
  return Buffer.from(png.buffer, png.byteOffset, png.byteLength);
}
