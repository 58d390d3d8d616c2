// The frames of one Pixel Data batch response as the viewer takes them: each part read
// as it arrives (multipart-reader.ts), named by its absolute frame URL, a deflated frame
// inflated to the size its header gives (frame-inflate.ts). Shared by the stack's fetch
// worker (stack-worker.ts) and the page (bulk-frames.ts, where no worker can be made).
// No DOM, no Cornerstone.
import { DEFLATED_IMAGE_FRAME, EXPLICIT_VR_LITTLE_ENDIAN, inflateFrame } from './frame-inflate.js';
import { mediaParam } from './frame-check.js';
import type { GreyLayout } from './frame-range.js';
import { LOADER_FRAME_ACCEPT } from './first-image.js';
import { boundaryOf, readMultipart } from './multipart-reader.js';
import type { BatchEvent, BatchFrames, BatchPart } from './batch-request.js';

export type { BatchPart } from './batch-request.js';

/** A batch's Accept: deflated for frames stored uncompressed, else as stored (what the loader's own requests ask for). */
export const BATCH_ACCEPT = `multipart/related; type="application/octet-stream"; transfer-syntax=${DEFLATED_IMAGE_FRAME}, ${LOADER_FRAME_ACCEPT}`;

/**
 * The parts of a batch body. `frameSize(href)`: the bytes a native frame of that URL holds
 * (from its header), undefined when not known; a deflated frame needs it. `greyLayout(href)`:
 * how to read its values, when they are grey values whose range is worth finding.
 */
export async function* batchParts(
  stream: ReadableStream<Uint8Array>,
  boundary: string,
  origin: string,
  frameSize: (href: string) => number | undefined,
  greyLayout: (href: string) => GreyLayout | undefined = () => undefined,
): AsyncGenerator<BatchPart> {
  for await (const part of readMultipart(stream, boundary)) {
    const location = part.headers['content-location'] ?? '';
    const href = new URL(location, location.startsWith('/') ? origin : undefined).href;
    const contentType = part.headers['content-type'] ?? '';
    if (mediaParam(contentType, 'transfer-syntax') !== DEFLATED_IMAGE_FRAME) {
      yield { href, contentType, body: part.body };
      continue;
    }
    const size = frameSize(href);
    if (size === undefined) {
      yield { href, contentType, refused: 'the header does not give the size a deflated frame must inflate to' };
      continue;
    }
    let native: ReturnType<typeof inflateFrame>;
    try {
      native = inflateFrame(part.body, size, greyLayout(href));
    } catch (e) {
      yield { href, contentType, refused: (e as Error).message };
      continue;
    }
    yield { href, contentType: `application/octet-stream; transfer-syntax=${EXPLICIT_VR_LITTLE_ENDIAN}`, ...native };
  }
}

/**
 * One batch request and its response as events: the headers' verdict, then each frame, each
 * stamped with `now()` when it was had. Used by the stack's fetch worker and by the page.
 */
export async function* fetchBatchParts(
  url: string,
  accept: string,
  origin: string,
  frames: BatchFrames,
  now: () => number,
): AsyncGenerator<BatchEvent & { at: number }> {
  const res = await fetch(url, { credentials: 'same-origin', headers: { accept } });
  const boundary = boundaryOf(res.headers.get('content-type') ?? '');
  const ok = res.ok && !!res.body && !!boundary;
  yield { type: 'headers', ok, at: now() };
  if (!ok) return void (await res.body?.cancel());
  const parts = batchParts(
    res.body,
    boundary,
    origin,
    (href) => frames[href]?.size,
    (href) => frames[href]?.layout,
  );
  for await (const part of parts) yield { type: 'part', part, at: now() };
}
