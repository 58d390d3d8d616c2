/** A stored frame to an encoded image: decode, render (window), viewport, JPEG or PNG. */
import { applyViewport, encodeJpeg, encodePngImage, renderFrame, type PixelFile, type SourceRegion, type Window } from '../../dicom/render/index.js';
import type { RenderedType } from './pixel-accept.js';
import { resolveRegion } from './pixel-params.js';

export interface RenderRequest {
  /** 0-based. */
  frame: number;
  window?: Window;
  viewport?: { width?: number; height?: number; region?: SourceRegion };
  /** WADO-URI region as fractions xmin,ymin,xmax,ymax. */
  fractionRegion?: [number, number, number, number];
  quality?: number;
  type: RenderedType;
}

export async function renderToImage(f: PixelFile, r: RenderRequest): Promise<Buffer> {
  const img = f.image;
  const frame = await f.nativeFrame(r.frame);
  let out = renderFrame(frame, img, { window: r.window });
  let region = resolveRegion(r.viewport?.region, img.columns, img.rows);
  if (r.fractionRegion) {
    const [x0, y0, x1, y1] = r.fractionRegion;
    region = { x: x0 * img.columns, y: y0 * img.rows, width: (x1 - x0) * img.columns, height: (y1 - y0) * img.rows };
  }
  out = applyViewport(out, { width: r.viewport?.width, height: r.viewport?.height, region });
  return r.type === 'image/png' ? encodePngImage(out) : await encodeJpeg(out, r.quality ?? 90);
}
