// A stack's frames in a few large requests: the series' Pixel Data resource with the
// instances named (src/web/dicomweb/pixeldata.ts), one multipart/related response per
// batch, the slices nearest the one on screen first. Each frame, as its part arrives, is
// handed to the dicom-image-loader through its compressed-frame registry (a metadata
// provider of COMPRESSED_FRAME_DATA, which its wadors loader asks before the network), so
// decoding, caching and the image ids stay the loader's own. What a batch did not deliver
// (a truncated response, a failed request) is loaded frame by frame afterwards. Frames
// stored uncompressed are asked for deflated and inflated (frame-inflate.ts); the loader
// gets them as native little endian, as if sent so. The requests, their reading and the
// inflating run in a worker (stack-worker.ts), on the page only where none can be made.
import { metaData } from '@cornerstonejs/core';
import { num, type DicomJson } from '../dicom-json.js';
import { FrameError, frameProblem, mediaParam } from './frame-check.js';
import { BATCH_ACCEPT, batchParts, type BatchPart } from './batch-parts.js';
import { EXPLICIT_VR_LITTLE_ENDIAN, nativeFrameBytes } from './frame-inflate.js';
import { boundaryOf } from './multipart-reader.js';
import type { StackWorkerReply, StackWorkerRequest } from './stack-worker-protocol.js';

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

/** What one batch request delivers, in order: its headers' verdict, then its frames. */
type BatchEvent = { type: 'headers'; ok: boolean } | { type: 'part'; part: BatchPart };

/** The stack's fetch worker (stack-worker.ts), made at the first batch; null when none can be made (the page reads then). */
let worker: Worker | null | undefined;
let nextId = 0;
const listeners = new Map<number, (m: StackWorkerReply) => void>();

function stackWorker(): Worker | null {
  if (worker !== undefined) return worker;
  try {
    worker = new Worker(new URL('./stack-worker.ts', import.meta.url), { type: 'module', name: 'stack-fetch' });
    worker.onmessage = (e: MessageEvent<StackWorkerReply>) => listeners.get(e.data.id)?.(e.data);
    // A worker that fails (its script did not load): its batches end, their frames are asked for one by one, later batches are read on the page.
    worker.onerror = () => {
      worker = null;
      for (const [id, listener] of listeners) listener({ id, type: 'end' });
    };
  } catch {
    worker = null;
  }
  return worker;
}

/** One batch through the worker: its events as they come. */
async function* viaWorker(w: Worker, url: string, accept: string, sizes: Record<string, number>): AsyncGenerator<BatchEvent> {
  const id = nextId++;
  const queue: StackWorkerReply[] = [];
  let wake: (() => void) | undefined;
  listeners.set(id, (m) => {
    queue.push(m);
    wake?.();
  });
  try {
    w.postMessage({ id, url, accept, sizes } satisfies StackWorkerRequest);
    for (;;) {
      while (queue.length === 0) await new Promise<void>((r) => (wake = r));
      const m = queue.shift()!;
      if (m.type === 'end') return;
      yield m.type === 'headers' ? { type: 'headers', ok: m.ok } : { type: 'part', part: m.part };
    }
  } finally {
    listeners.delete(id);
  }
}

/** One batch read on the page. */
async function* onPage(url: string, accept: string, sizes: Record<string, number>): AsyncGenerator<BatchEvent> {
  const res = await fetch(url, { credentials: 'same-origin', headers: { accept } });
  const boundary = boundaryOf(res.headers.get('content-type') ?? '');
  const ok = res.ok && !!res.body && !!boundary;
  yield { type: 'headers', ok };
  if (!ok) return void (await res.body?.cancel());
  for await (const part of batchParts(res.body, boundary, window.location.origin, (href) => sizes[href])) yield { type: 'part', part };
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
  const shapeOf = (inst: DicomJson) => ({ rows: num(inst, '00280010'), columns: num(inst, '00280011'), samplesPerPixel: num(inst, '00280002') });
  const sizes: Record<string, number> = {};
  for (const f of batch) {
    const size = nativeFrameBytes({ ...shapeOf(f.instance), bitsAllocated: num(f.instance, '00280100') });
    if (size !== undefined) sizes[f.imageId.slice('wadors:'.length)] = size;
  }
  const url = new URL(`${opts.pixelDataUrl}?instances=${sops.map(encodeURIComponent).join(',')}`, window.location.href).href;
  const w = stackWorker();
  const events = w ? viaWorker(w, url, BATCH_ACCEPT, sizes) : onPage(url, BATCH_ACCEPT, sizes);
  try {
    for await (const ev of events) {
      if (ev.type === 'headers') {
        if (timing) timing.headers = performance.now();
        if (!ev.ok) break;
        continue;
      }
      const part = ev.part;
      const imageId = `wadors:${part.href}`;
      const req = wanted.get(imageId);
      if (!req) continue;
      wanted.delete(imageId);
      if (part.refused !== undefined || !part.body) {
        opts.onFrame(imageId, new FrameError(part.refused ?? 'the frame has no bytes'));
        continue;
      }
      if (timing) timing.bytes += part.body.length;
      const problem = frameProblem(part.body.buffer as ArrayBuffer, part.contentType, shapeOf(req.instance));
      if (problem) {
        opts.onFrame(imageId, new FrameError(problem));
        continue;
      }
      if (opts.needed(imageId))
        arrived.set(imageId, { pixelData: part.body, transferSyntaxUid: mediaParam(part.contentType, 'transfer-syntax') ?? EXPLICIT_VR_LITTLE_ENDIAN });
      opts.onFrame(imageId);
    }
  } catch {
    // A failed or truncated response: what it did not deliver is asked for frame by frame.
  }
  if (timing) timing.end = performance.now();
  return [...wanted.keys()];
}
