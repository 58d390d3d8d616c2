// A stack's frames in a few large requests: the series' Pixel Data resource with the
// instances named (src/web/dicomweb/pixeldata.ts), one multipart/related response per
// batch, the slices nearest the one on screen first. Each frame, as its part arrives, is
// handed to the dicom-image-loader through its compressed-frame registry (a metadata
// provider of COMPRESSED_FRAME_DATA, which its wadors loader asks before the network), so
// decoding, caching and the image ids stay the loader's own. What a batch did not deliver
// (a truncated response, a failed request) is loaded frame by frame afterwards. Frames
// stored uncompressed are asked for deflated and inflated (frame-inflate.ts); the loader
// gets them as native little endian, as if sent so. The requests, their reading and the
// inflating run in a worker (batch-fetch.ts, stack-worker.ts), on the page only where none
// can be made.
import { metaData } from '@cornerstonejs/core';
import { FrameError, frameProblem, mediaParam } from './frame-check.js';
import { batchEvents } from './batch-fetch.js';
import { batchRequest, shapeOf, type BatchTiming, type FrameRequest } from './batch-request.js';
import type { BatchPart } from './batch-request.js';
import { EXPLICIT_VR_LITTLE_ENDIAN } from './frame-inflate.js';
import { rememberRange } from './frame-range.js';

export { startStackWorkers } from './batch-fetch.js';
export { batchesOf, outwardOrder } from './fetch-order.js';
export type { BatchTiming, FrameRequest } from './batch-request.js';

/** Frames that arrived and wait for the loader, by image id: taken (and forgotten) when it asks. */
const arrived = new Map<string, { pixelData: Uint8Array; transferSyntaxUid: string }>();
let providerAdded = false;

function addProvider(): void {
  if (providerAdded) return;
  providerAdded = true;
  // Above the loader's own providers: asked first, answers only for frames it holds.
  metaData.addProvider((type: string, imageId: string) => {
    if (type !== 'compressedFrameData') return undefined;
    const frame = arrived.get(imageId);
    if (frame) arrived.delete(imageId);
    return frame;
  }, 10_000);
}

export interface FrameOptions {
  /** Called for each frame as it arrives, after it is in the registry (or refused by the frame check). */
  onFrame: (imageId: string, refused?: FrameError) => void;
  /** Whether the loader still needs the frame: one loading or loaded meanwhile (the user scrolled there) is not put in the registry, where nothing would take it. */
  needed: (imageId: string) => boolean;
}

export interface BatchOptions extends FrameOptions {
  /** Filled in as the batch goes (the viewer's stack timeline). */
  timing?: BatchTiming;
  /** The series' Pixel Data URL (…/series/{uid}/pixeldata). */
  pixelDataUrl: string;
}

/** One frame's part as it arrived: checked, put in the loader's registry while it is still needed, `onFrame` told. */
function acceptPart(req: FrameRequest, part: BatchPart, opts: FrameOptions): void {
  addProvider();
  if (part.refused !== undefined || !part.body) return opts.onFrame(req.imageId, new FrameError(part.refused ?? 'the frame has no bytes'));
  const problem = frameProblem(part.body.buffer as ArrayBuffer, part.contentType, shapeOf(req.instance));
  if (problem) return opts.onFrame(req.imageId, new FrameError(problem));
  if (opts.needed(req.imageId)) {
    if (part.range) rememberRange(part.body, part.range);
    arrived.set(req.imageId, { pixelData: part.body, transferSyntaxUid: mediaParam(part.contentType, 'transfer-syntax') ?? EXPLICIT_VR_LITTLE_ENDIAN });
  }
  opts.onFrame(req.imageId);
}

/**
 * Fetches one batch; resolves with the image ids it did not deliver (all of them when the
 * request failed). Frames reach `onFrame` in the order of the response.
 */
export async function fetchBatch(batch: FrameRequest[], opts: BatchOptions): Promise<string[]> {
  const wanted = new Map(batch.map((f) => [f.imageId, f]));
  const timing = opts.timing;
  const { url, frames } = batchRequest(batch, opts.pixelDataUrl, window.location.href);
  try {
    for await (const ev of batchEvents(url, frames)) {
      if (ev.type === 'headers') {
        if (timing) timing.headers = ev.at ?? performance.now();
        if (!ev.ok) break;
        continue;
      }
      const part = ev.part;
      const imageId = `wadors:${part.href}`;
      const req = wanted.get(imageId);
      if (!req) continue;
      wanted.delete(imageId);
      if (timing) {
        timing.bytes += part.body?.length ?? 0;
        timing.end = ev.at ?? performance.now();
      }
      acceptPart(req, part, opts);
    }
  } catch {
    // A failed or truncated response: what it did not deliver is asked for frame by frame.
  }
  if (timing) timing.end ??= performance.now();
  return [...wanted.keys()];
}
