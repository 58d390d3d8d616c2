// A stack's Pixel Data batch requests as the viewer names them: the frames asked for, the
// request's URL and the frames' native sizes, the events a response gives and the timing
// kept of it (bulk-frames.ts). No DOM, no Cornerstone: unit-tested under Node.
import { num, type DicomJson } from '../dicom-json.js';
import type { BatchPart } from './batch-parts.js';
import { nativeFrameBytes } from './frame-inflate.js';

/** One frame to fetch: its loader image id, and the instance (metadata) it belongs to. */
export interface FrameRequest {
  imageId: string;
  sopUid: string;
  instance: DicomJson;
}

/** When one batch request started, its response headers arrived, its last part was read (performance.now()), and its size. */
export interface BatchTiming {
  frames: number;
  start: number;
  headers?: number;
  end?: number;
  bytes: number;
}

/** What one batch request delivers, in order: its headers' verdict, then its frames; `at`, when it was read (performance.now() of the page). */
export type BatchEvent = { type: 'headers'; ok: boolean; at?: number } | { type: 'part'; part: BatchPart; at?: number };

/** A batch's events from its URL and the native size of each frame by absolute URL (tests give their own). */
export type BatchSource = (url: string, sizes: Record<string, number>) => AsyncGenerator<BatchEvent>;

/** The image's shape as the frame check reads it. */
export const shapeOf = (inst: DicomJson) => ({ rows: num(inst, '00280010'), columns: num(inst, '00280011'), samplesPerPixel: num(inst, '00280002') });

/** The batch's URL (the series' Pixel Data resource, its instances named) and its frames' native sizes. */
export function batchRequest(batch: FrameRequest[], pixelDataUrl: string, base: string): { url: string; sizes: Record<string, number> } {
  const sops = [...new Set(batch.map((f) => f.sopUid))];
  const sizes: Record<string, number> = {};
  for (const f of batch) {
    const size = nativeFrameBytes({ ...shapeOf(f.instance), bitsAllocated: num(f.instance, '00280100') });
    if (size !== undefined) sizes[f.imageId.slice('wadors:'.length)] = size;
  }
  return { url: new URL(`${pixelDataUrl}?instances=${sops.map(encodeURIComponent).join(',')}`, base).href, sizes };
}
