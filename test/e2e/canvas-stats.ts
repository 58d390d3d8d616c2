// Grey-level statistics of a rendered canvas, the measure the browser tests use to tell a
// shown image from a blank or black viewport. The function runs in the page (passed to a
// handle's evaluate), so it is self-contained: no closure over this module, no named inner
// functions (a compiler's __name helper for them would not exist in the page).
import type { JSHandle } from 'playwright-core';

// The part of a canvas read here (the tests' tsconfig has no DOM library).
export interface PixelCanvasLike {
  width: number;
  height: number;
  getContext(type: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
}

export interface CanvasStats {
  mean: number;
  std: number;
  nonBlack: number; // fraction of pixels brighter than 8
}

/** In the page: statistics of the canvas's pixels (grey = mean of R, G, B); undefined without a canvas, a 2D context or any pixels. */
export function canvasGreyStats(canvas: PixelCanvasLike | null | undefined): CanvasStats | undefined {
  const ctx = canvas?.getContext('2d');
  if (!canvas || !ctx || canvas.width === 0) return undefined;
  const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
  let sum = 0;
  let sum2 = 0;
  let bright = 0;
  const n = data.length / 4;
  for (let p = 0; p < data.length; p += 4) {
    const g = (data[p] + data[p + 1] + data[p + 2]) / 3;
    sum += g;
    sum2 += g * g;
    if (g > 8) bright++;
  }
  const mean = sum / n;
  return { mean, std: Math.sqrt(Math.max(0, sum2 / n - mean * mean)), nonBlack: bright / n };
}

/** The statistics of the canvas a handle (from page.evaluateHandle) points at; the handle is released. */
export async function canvasStatsOf(canvas: JSHandle<PixelCanvasLike | null | undefined>): Promise<CanvasStats | undefined> {
  try {
    return await canvas.evaluate(canvasGreyStats);
  } finally {
    await canvas.dispose();
  }
}
