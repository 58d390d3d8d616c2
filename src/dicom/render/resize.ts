/**
 * Source region and viewport of rendered resources (PS3.18 8.3.5.1.3; WADO-URI region /
 * rows / columns): crop, flip (negative source width or height), then scale to fit the
 * viewport keeping the aspect ratio. Shrinking averages the source pixels each output
 * pixel covers (thumbnails stay free of aliasing); enlarging samples the nearest pixel.
 */
import type { RenderedImage } from './render.js';

export interface SourceRegion {
  /** Top-left corner and size in source pixels; a negative size flips that axis. */
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Viewport {
  width?: number;
  height?: number;
  region?: SourceRegion;
}

/** The output size that fits `w`x`h` into the viewport (either dimension may be absent). */
export function fitSize(w: number, h: number, vw: number | undefined, vh: number | undefined): [number, number] {
  if (!vw && !vh) return [w, h];
  const scale = Math.min(vw ? vw / w : Number.POSITIVE_INFINITY, vh ? vh / h : Number.POSITIVE_INFINITY);
  return [Math.max(1, Math.round(w * scale)), Math.max(1, Math.round(h * scale))];
}

export function applyViewport(img: RenderedImage, vp: Viewport): RenderedImage {
  const r = vp.region ?? { x: 0, y: 0, width: img.width, height: img.height };
  const flipX = r.width < 0,
    flipY = r.height < 0;
  const sw = Math.abs(r.width),
    sh = Math.abs(r.height);
  // Clip the region to the image.
  const x0 = Math.max(0, Math.min(img.width - 1, Math.floor(r.x)));
  const y0 = Math.max(0, Math.min(img.height - 1, Math.floor(r.y)));
  const cw = Math.max(1, Math.min(img.width - x0, Math.round(sw)));
  const ch = Math.max(1, Math.min(img.height - y0, Math.round(sh)));
  const [ow, oh] = fitSize(cw, ch, vp.width, vp.height);
  if (!vp.region && ow === img.width && oh === img.height) return img;
  const c = img.channels;
  const out = new Uint8Array(ow * oh * c);
  const sx = cw / ow,
    sy = ch / oh;
  const src = img.data,
    stride = img.width * c;
  const acc = new Float64Array(c);
  for (let oy = 0; oy < oh; oy++) {
    const ty = flipY ? oh - 1 - oy : oy;
    const ya = y0 + Math.floor(ty * sy);
    const yb = Math.max(ya + 1, Math.min(y0 + ch, y0 + Math.floor((ty + 1) * sy)));
    for (let ox = 0; ox < ow; ox++) {
      const tx = flipX ? ow - 1 - ox : ox;
      const xa = x0 + Math.floor(tx * sx);
      const xb = Math.max(xa + 1, Math.min(x0 + cw, x0 + Math.floor((tx + 1) * sx)));
      const o = (oy * ow + ox) * c;
      if (xb - xa === 1 && yb - ya === 1) {
        const p = ya * stride + xa * c;
        for (let k = 0; k < c; k++) out[o + k] = src[p + k];
        continue;
      }
      acc.fill(0);
      for (let y = ya; y < yb; y++) {
        let p = y * stride + xa * c;
        for (let x = xa; x < xb; x++, p += c) for (let k = 0; k < c; k++) acc[k] += src[p + k];
      }
      const count = (xb - xa) * (yb - ya);
      for (let k = 0; k < c; k++) out[o + k] = Math.round(acc[k] / count);
    }
  }
  return { width: ow, height: oh, channels: c, data: out };
}
