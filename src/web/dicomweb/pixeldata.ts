/**
 * The frames of many instances in one response: the Pixel Data resource of a series
 * (PS3.18 10.4.1, `.../series/{series}/pixeldata`), multipart/related with one part per
 * frame, each named by its frame URL in Content-Location. A viewer gets a 300-slice stack
 * in a few requests instead of 300 (the browser holds at most six connections to a host).
 *
 * `?instances=uid,uid,...` (this server's extension, at most MAX_INSTANCES) picks the
 * instances and their order: a viewer asks for the slices around the one on screen first.
 * Without it, every instance of the series in the index's order.
 *
 * The first frame is read before answering, so a request that cannot be served gets a
 * problem response; a later instance that cannot be read ends the body early (no closing
 * boundary): the client sees a truncated response and asks for the missing frames one by one.
 */
import type { Archive, InstanceSummary } from '../../archive/index.js';
import type { PixelFile } from '../../dicom/render/index.js';
import { mediaType } from '../header-values.js';
import { negotiateFrames, type FrameForm } from './pixel-accept.js';
import { frameBytes, formOf } from './pixel-frames.js';
import { findInstance, openInstance, seriesInstances } from './pixel-instance.js';
import { multipartContentType, multipartStream, newBoundary, type Part } from './pixel-multipart.js';
import { checkUid, PixelRequestError } from './pixel-params.js';
import type { Readable } from 'node:stream';

/** Instances one request may name: 100 UIDs keep the request line under 7 KB. */
export const MAX_INSTANCES = 100;

/** "uid1,uid2" -> the UIDs, each checked, none twice. */
export function parseInstanceList(value: string): string[] {
  const uids = value.split(',');
  if (uids.length > MAX_INSTANCES) throw new PixelRequestError(400, `more than ${MAX_INSTANCES} instances in one request`, 'instances');
  const seen = new Set<string>();
  for (const uid of uids) {
    checkUid(uid, 'instances');
    if (seen.has(uid)) throw new PixelRequestError(400, `instance ${uid} is named twice`, 'instances');
    seen.add(uid);
  }
  return uids;
}

/** The instances a request names, in its order, each checked to be in the series; or the whole series. */
export async function pixelDataInstances(archive: Archive, study: string, series: string, instances: string | undefined): Promise<InstanceSummary[]> {
  if (instances === undefined) return seriesInstances(archive, study, series);
  const rows: InstanceSummary[] = [];
  for (const uid of parseInstanceList(instances)) rows.push(await findInstance(archive, study, series, uid));
  return rows;
}

export interface PixelDataResponse {
  contentType: string;
  body: Readable;
}

/** The multipart body of every frame of `rows`, in the negotiated form of each instance. */
export async function pixelDataResponse(
  archive: Archive,
  rows: InstanceSummary[],
  accept: string | undefined,
  frameUrl: (row: InstanceSummary, n: number) => string,
): Promise<PixelDataResponse> {
  const opened = async (row: InstanceSummary): Promise<{ f: PixelFile; form: FrameForm }> => {
    const f = await openInstance(archive, row);
    try {
      return { f, form: negotiateFrames(accept, formOf(f), { deflate: true }) };
    } catch (e) {
      await f.close();
      throw e;
    }
  };
  const first = await opened(rows[0]);
  let firstFrame: Uint8Array;
  try {
    firstFrame = await frameBytes(first.f, 0, first.form);
  } catch (e) {
    await first.f.close();
    throw e;
  }
  // The next instance is opened and its first frame read while this one's frames go out:
  // the file reads overlap the sending instead of following it. All opened files are
  // closed at the end, also when the client goes away.
  const open = new Set<PixelFile>([first.f]);
  type Ready = { f: PixelFile; form: FrameForm; frame0: Uint8Array };
  const ready = async (i: number): Promise<Ready> => {
    if (i === 0) return { ...first, frame0: firstFrame };
    const o = await opened(rows[i]);
    open.add(o.f);
    return { ...o, frame0: await frameBytes(o.f, 0, o.form) };
  };
  let next: Promise<Ready> | undefined;
  async function* parts(): AsyncGenerator<Part> {
    next = ready(0);
    for (let i = 0; i < rows.length; i++) {
      const { f, form, frame0 } = await next!;
      next = i + 1 < rows.length ? ready(i + 1) : undefined;
      // A read that fails ahead is seen when its turn comes, not as an unhandled rejection.
      next?.catch(() => undefined);
      const type = mediaType(form.mediaType, { 'transfer-syntax': form.transferSyntax });
      for (let n = 0; n < f.frameCount; n++) {
        const body = n === 0 ? frame0 : await frameBytes(f, n, form);
        yield { contentType: type, contentLocation: frameUrl(rows[i], n + 1), body };
      }
      open.delete(f);
      await f.close();
    }
  }
  const boundary = newBoundary();
  return {
    contentType: multipartContentType(first.form.mediaType, boundary),
    body: multipartStream(boundary, parts(), async () => {
      // What is still open: the instance being sent when the client went away, and the one read ahead (once its read settles).
      await next?.catch(() => undefined);
      await Promise.all([...open].map((f) => f.close().catch(() => undefined)));
    }),
  };
}
