// A stack's frames in a few large requests: the series' Pixel Data resource with the
// instances named (src/web/dicomweb/pixeldata.ts), one multipart/related response per
// batch, the slices nearest the one on screen first. Each frame, as its part arrives, is
// handed to the dicom-image-loader through its compressed-frame registry (a metadata
// provider of COMPRESSED_FRAME_DATA, which its wadors loader asks before the network), so
// decoding, caching and the image ids stay the loader's own. What a batch did not deliver
// (a truncated response, a failed request) is loaded frame by frame afterwards.
import { metaData } from '@cornerstonejs/core';
import { num, type DicomJson } from '../dicom-json.js';
import { FrameError, frameProblem, mediaParam } from './frame-check.js';
import { LOADER_FRAME_ACCEPT } from './first-image.js';
import { boundaryOf, readMultipart } from './multipart-reader.js';

export { batchesOf, outwardOrder } from './fetch-order.js';

/** One frame to fetch: its loader image id, and the instance (metadata) it belongs to. */
export interface FrameRequest {
  imageId: string;
  sopUid: string;
  instance: DicomJson;
}

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

/** When one batch request started, its response headers arrived, its last part was read (performance.now()), and its size. */
export interface BatchTiming {
  frames: number;
  start: number;
  headers?: number;
  end?: number;
  bytes: number;
}

export interface BatchOptions {
  /** Filled in as the batch goes (the viewer's stack timeline). */
  timing?: BatchTiming;
  /** The series' Pixel Data URL (…/series/{uid}/pixeldata). */
  pixelDataUrl: string;
  /** Called for each frame as it arrives, after it is in the registry (or refused by the frame check). */
  onFrame: (imageId: string, refused?: FrameError) => void;
  /** Whether the loader still needs the frame: one loading or loaded meanwhile (the user scrolled there) is not put in the registry, where nothing would take it. */
  needed: (imageId: string) => boolean;
}

/**
 * Fetches one batch; resolves with the image ids it did not deliver (all of them when the
 * request failed). Frames reach `onFrame` in the order of the response.
 */
export async function fetchBatch(batch: FrameRequest[], opts: BatchOptions): Promise<string[]> {
  addProvider();
  const wanted = new Map(batch.map((f) => [f.imageId, f]));
  const sops = [...new Set(batch.map((f) => f.sopUid))];
  const timing = opts.timing;
  try {
    const res = await fetch(`${opts.pixelDataUrl}?instances=${sops.map(encodeURIComponent).join(',')}`, {
      credentials: 'same-origin',
      headers: { accept: LOADER_FRAME_ACCEPT },
    });
    if (timing) timing.headers = performance.now();
    const boundary = boundaryOf(res.headers.get('content-type') ?? '');
    if (!res.ok || !res.body || !boundary) {
      await res.body?.cancel();
      return [...wanted.keys()];
    }
    for await (const part of readMultipart(res.body, boundary)) {
      if (timing) timing.bytes += part.body.length;
      const location = part.headers['content-location'] ?? '';
      const imageId = `wadors:${new URL(location, location.startsWith('/') ? window.location.origin : undefined).href}`;
      const req = wanted.get(imageId);
      if (!req) continue;
      wanted.delete(imageId);
      const contentType = part.headers['content-type'] ?? '';
      const shape = { rows: num(req.instance, '00280010'), columns: num(req.instance, '00280011'), samplesPerPixel: num(req.instance, '00280002') };
      const body = part.body.buffer as ArrayBuffer;
      const problem = frameProblem(body, contentType, shape);
      if (problem) {
        opts.onFrame(imageId, new FrameError(problem));
        continue;
      }
      if (opts.needed(imageId))
        arrived.set(imageId, { pixelData: part.body, transferSyntaxUid: mediaParam(contentType, 'transfer-syntax') ?? '1.2.840.10008.1.2.1' });
      opts.onFrame(imageId);
    }
  } catch {
    // A failed or truncated response: what it did not deliver is asked for frame by frame.
  }
  if (timing) timing.end = performance.now();
  return [...wanted.keys()];
}
