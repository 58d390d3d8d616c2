// A stack's Pixel Data batch requests as the viewer names them: the frames asked for, the
// request's URL and the frames' native sizes, the events a response gives and the timing
// kept of it (bulk-frames.ts). No DOM, no Cornerstone: unit-tested under Node.
import { num, TAG, type DicomJson } from '../dicom-json.js';
import { nativeFrameBytes } from './frame-inflate.js';
import { greyLayoutOf, type FrameRange, type GreyLayout } from './frame-range.js';

/** One frame of a batch: its bytes and part type (native when it came deflated), or why it was refused. */
export interface BatchPart {
  href: string;
  contentType: string;
  body?: Uint8Array;
  /** The values' range of an inflated grey frame (frame-range.ts): its decoding on the page skips that pass. */
  range?: FrameRange;
  refused?: string;
}

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

/** What the reader of a batch knows of one frame from its instance's header. */
export interface BatchFrame {
  /** Bytes of the native frame (what a deflated one must inflate to); none where the header lacks its shape. */
  size?: number;
  /** How to read a grey frame's values (frame-range.ts): its range is found as it is inflated. */
  layout?: GreyLayout;
}

/** The batch's frames by absolute frame URL. */
export type BatchFrames = Record<string, BatchFrame>;

/** A batch's events from its URL and what is known of its frames (tests give their own). */
export type BatchSource = (url: string, frames: BatchFrames) => AsyncGenerator<BatchEvent>;

/** The image's shape as the frame check reads it. */
export const shapeOf = (inst: DicomJson) => ({ rows: num(inst, TAG.Rows), columns: num(inst, TAG.Columns), samplesPerPixel: num(inst, TAG.SamplesPerPixel) });

/** The batch's URL (the series' Pixel Data resource, its instances named) and what is known of its frames. */
export function batchRequest(batch: FrameRequest[], pixelDataUrl: string, base: string): { url: string; frames: BatchFrames } {
  const sops = [...new Set(batch.map((f) => f.sopUid))];
  const frames: BatchFrames = {};
  for (const f of batch) {
    const href = f.imageId.slice('wadors:'.length);
    const pixel = {
      ...shapeOf(f.instance),
      bitsAllocated: num(f.instance, TAG.BitsAllocated),
      bitsStored: num(f.instance, TAG.BitsStored),
      pixelRepresentation: num(f.instance, TAG.PixelRepresentation),
    };
    const frame: BatchFrame = {};
    const size = nativeFrameBytes(pixel);
    if (size !== undefined) frame.size = size;
    const layout = greyLayoutOf(pixel);
    if (layout) frame.layout = layout;
    frames[href] = frame;
  }
  return { url: new URL(`${pixelDataUrl}?instances=${sops.map(encodeURIComponent).join(',')}`, base).href, frames };
}
