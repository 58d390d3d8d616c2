// Which series and instance the viewer shows first, by its own rules (hanging order
// without reports; slices by position), and how the image loader asks for a frame: what
// early.ts requests before the viewer's scripts have loaded. No DOM, no Cornerstone.
import type { DicomJson } from '../dicom-json.js';
import { num, str, TAG } from '../dicom-json.js';
import { hangingOrder, hangsAsImages } from './hanging.js';
import { holdsPixels, orderSlices } from './slice-order.js';

/** The Accept of the dicom-image-loader's WADO-RS frame requests (its wadors/loadImage.js). */
export const LOADER_FRAME_ACCEPT = 'multipart/related; type=application/octet-stream; transfer-syntax=*';

const hangingKey = (s: DicomJson) => ({ seriesNumber: num(s, TAG.SeriesNumber), description: str(s, TAG.SeriesDescription) });

/** The series the viewer hangs first: images only, in hanging order. */
export function firstHungSeries(series: DicomJson[]): DicomJson | undefined {
  return series.filter((s) => hangsAsImages(str(s, TAG.Modality))).sort((a, b) => hangingOrder(hangingKey(a), hangingKey(b)))[0];
}

/** The instance the viewer shows first: the first image in display order. */
export function firstShownInstance(instances: DicomJson[]): DicomJson | undefined {
  return firstShown(instances)?.instance;
}

/** The first image in display order and the number of frames in the stack (one image id each, loader.ts). */
export function firstShown(instances: DicomJson[]): { instance: DicomJson; frames: number } | undefined {
  const images = instances.filter(holdsPixels);
  if (!images.length) return undefined;
  const frames = images.reduce((n, i) => n + Math.max(1, num(i, TAG.NumberOfFrames) ?? 1), 0);
  return { instance: orderSlices(images).ordered[0], frames };
}
