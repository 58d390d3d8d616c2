/** One frame to an 8-bit gray or RGB image: the rendering pipeline of WADO rendered resources. */
import { PixelDataError } from './errors.js';
import type { ImagePixel, Window } from './image-pixel.js';
import type { NativeFrame } from './pixel-file.js';
import { renderColor, renderPalette } from './color.js';
import { renderGray, sampleArray } from './voi.js';

export interface RenderedImage {
  width: number;
  height: number;
  /** 1: gray, 3: interleaved RGB. */
  channels: 1 | 3;
  data: Uint8Array;
}

export interface RenderOptions {
  /** The request's window (overrides the data set's Window Center / Width). */
  window?: Window;
}

export function renderFrame(frame: NativeFrame, img: ImagePixel, opts: RenderOptions = {}): RenderedImage {
  const { rows: height, columns: width } = img;
  const n = width * height;
  const photometric = frame.photometricInterpretation;
  if (img.samplesPerPixel === 1) {
    if (photometric === 'PALETTE COLOR') {
      if (!img.palette) throw new PixelDataError('unsupported', 'PALETTE COLOR without a palette');
      return { width, height, channels: 3, data: renderPalette(frame.pixels, img, img.palette) };
    }
    if (photometric !== 'MONOCHROME1' && photometric !== 'MONOCHROME2') {
      throw new PixelDataError('unsupported', `Photometric Interpretation ${photometric} with one sample per pixel is not supported`);
    }
    const samples = sampleArray(frame.pixels, img.bitsAllocated, n);
    return { width, height, channels: 1, data: renderGray(samples, img, opts.window) };
  }
  return { width, height, channels: 3, data: renderColor(frame.pixels, img, photometric, frame.planarConfiguration) };
}
