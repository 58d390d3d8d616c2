/**
 * The pixel side of DICOMweb (PS3.18 10.4 Retrieve): frames, bulk data, rendered images
 * and thumbnails of stored instances, plus WADO-URI (PS3.18 9). Registered by the
 * DICOMweb plugin inside its prefixed, authenticated scope.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Archive, InstanceSummary } from '../../archive/index.js';
import { PixelDataError, PixelTags, type PixelFile } from '../../dicom/render/index.js';
import { EXPLICIT_VR_LITTLE_ENDIAN, negotiateFrames, negotiateRendered, OCTET_STREAM } from './pixel-accept.js';
import { cachedAlready } from './pixel-cache.js';
import { frameBytes, formOf } from './pixel-frames.js';
import { pixelDataInstances, pixelDataResponse } from './pixeldata.js';
import { findInstance, openInstance, seriesInstances, studySeries, withInstance } from './pixel-instance.js';
import { mediaType, pathOf } from '../header-values.js';
import { errorHandler } from '../problem.js';
import { multipartContentType, multipartStream, newBoundary, type Part } from './pixel-multipart.js';
import { checkUid, parseFrameList, parseQuality, parseTag, parseViewport, parseWindow, PixelRequestError } from './pixel-params.js';
import { renderToImage, type RenderRequest } from './pixel-render.js';
import { thumbnailRequest } from './thumbnail-cache.js';
import { registerWadoUri } from './wado-uri.js';

export interface PixelRouteDeps {
  /** Its thumbnail cache keeps the thumbnails (removed with their instances). */
  archive: Archive;
}

type Params = { study: string; series?: string; sop?: string; frames?: string; tag?: string };
type Query = Record<string, string | undefined>;

const STREAM_CHUNK = 1 << 20;

export async function registerPixelRoutes(scope: FastifyInstance, deps: PixelRouteDeps): Promise<void> {
  const { archive } = deps;
  const thumbnails = archive.thumbnails;
  const prefix = scope.prefix;

  /** An instance's URL under the scope, each UID percent-encoded (header-values.ts): it goes into Content-Location. */
  const instanceUrl = (row: InstanceSummary): string =>
    prefix + pathOf('studies', row.studyInstanceUid, 'series', row.seriesInstanceUid, 'instances', row.sopInstanceUid);
  const frameUrl = (row: InstanceSummary, n: number): string => `${instanceUrl(row)}/frames/${n}`;

  /** Wraps a handler: typed failures become problem responses. */
  const route = (path: string, handler: (req: FastifyRequest<{ Params: Params; Querystring: Query }>, reply: FastifyReply) => Promise<unknown>): void => {
    scope.get<{ Params: Params; Querystring: Query }>(path, async (req, reply) => {
      try {
        return await handler(req, reply);
      } catch (err) {
        // A failure is not the stored representation: not to be cached as one.
        reply.removeHeader('cache-control').removeHeader('etag');
        return errorHandler(err, req, reply);
      }
    });
  };

  const instanceOf = async (p: Params): Promise<InstanceSummary> =>
    findInstance(archive, checkUid(p.study, 'study'), checkUid(p.series, 'series'), checkUid(p.sop, 'instance'));

  // ---- frames --------------------------------------------------------------

  route('/studies/:study/series/:series/instances/:sop/frames/:frames', async (req, reply) => {
    const row = await instanceOf(req.params);
    const numbers = parseFrameList(req.params.frames!);
    if (cachedAlready(req, reply, row, `frames/${numbers.join(',')}`)) return reply;
    const f = await openInstance(archive, row);
    try {
      const img = f.image;
      const bad = numbers.find((n) => n > img.frames);
      if (bad !== undefined) throw new PixelDataError('frame-out-of-range', `frame ${bad} does not exist: the instance has ${img.frames} frame(s)`);
      const form = negotiateFrames(req.headers.accept, formOf(f), { deflate: true });
      // The first frame is made before answering, so that a frame that cannot be read gets a problem response.
      const first = await frameBytes(f, numbers[0] - 1, form);
      const boundary = newBoundary();
      const partType = mediaType(form.mediaType, { 'transfer-syntax': form.transferSyntax });
      async function* parts(): AsyncGenerator<Part> {
        for (let i = 0; i < numbers.length; i++) {
          const body = i === 0 ? first : await frameBytes(f, numbers[i] - 1, form);
          yield { contentType: partType, contentLocation: frameUrl(row, numbers[i]), body };
        }
      }
      return reply.type(multipartContentType(form.mediaType, boundary)).send(multipartStream(boundary, parts(), () => f.close()));
    } catch (e) {
      await f.close();
      throw e;
    }
  });

  // ---- frames of many instances ---------------------------------------------

  route('/studies/:study/series/:series/pixeldata', async (req, reply) => {
    const rows = await pixelDataInstances(archive, checkUid(req.params.study, 'study'), checkUid(req.params.series, 'series'), req.query.instances);
    // Named instances are a fixed set of stored blobs: as immutable as one frame. The whole series is not (it may grow).
    if (req.query.instances !== undefined && cachedAlready(req, reply, rows, 'pixeldata')) return reply;
    const { contentType, body } = await pixelDataResponse(archive, rows, req.headers.accept, frameUrl);
    return reply.type(contentType).send(body);
  });

  // ---- bulk data -------------------------------------------------------------

  route('/studies/:study/series/:series/instances/:sop/bulkdata/:tag', async (req, reply) => {
    const row = await instanceOf(req.params);
    const tag = parseTag(req.params.tag!);
    if (cachedAlready(req, reply, row, `bulkdata/${tag}`)) return reply;
    const f = await openInstance(archive, row);
    try {
      const boundary = newBoundary();
      const location = `${instanceUrl(row)}/bulkdata/${encodeURIComponent(req.params.tag!.toUpperCase())}`;
      if (tag === PixelTags.PixelData && f.pixelData) {
        if (f.encapsulated) {
          const form = negotiateFrames(req.headers.accept, formOf(f));
          const count = f.frameCount;
          await f.frameFragments(0); // fragments readable before answering
          if (form.kind === 'stored') {
            // Encapsulated Pixel Data as stored: one part per frame (PS3.18 8.7.3.3.2).
            async function* parts(): AsyncGenerator<Part> {
              const type = mediaType(form.mediaType, { 'transfer-syntax': form.transferSyntax });
              for (let i = 0; i < count; i++) yield { contentType: type, contentLocation: frameUrl(row, i + 1), body: await f.storedFrame(i) };
            }
            return reply.type(multipartContentType(form.mediaType, boundary)).send(multipartStream(boundary, parts(), () => f.close()));
          }
          // Decoded: the native Pixel Data value it decompresses to, frame after frame, as one part.
          const first = await frameBytes(f, 0, form);
          const decoded = (async function* (): AsyncGenerator<Uint8Array> {
            yield first;
            for (let i = 1; i < count; i++) yield await frameBytes(f, i, form);
          })();
          const parts = (async function* (): AsyncGenerator<Part> {
            yield { contentType: mediaType(OCTET_STREAM, { 'transfer-syntax': EXPLICIT_VR_LITTLE_ENDIAN }), contentLocation: location, body: decoded };
          })();
          return reply.type(multipartContentType(OCTET_STREAM, boundary)).send(multipartStream(boundary, parts, () => f.close()));
        }
        negotiateFrames(req.headers.accept, { ...formOf(f), encapsulated: false });
        const body = nativePixelStream(f);
        const parts = (async function* (): AsyncGenerator<Part> {
          yield { contentType: mediaType(OCTET_STREAM, { 'transfer-syntax': EXPLICIT_VR_LITTLE_ENDIAN }), contentLocation: location, body };
        })();
        return reply.type(multipartContentType(OCTET_STREAM, boundary)).send(multipartStream(boundary, parts, () => f.close()));
      }
      const value = await f.elementValue(tag);
      if (!value) throw new PixelRequestError(404, `the instance has no top-level attribute ${req.params.tag!.toUpperCase()} with a value before Pixel Data`);
      negotiateFrames(req.headers.accept, { transferSyntaxUid: EXPLICIT_VR_LITTLE_ENDIAN, encapsulated: false, decodable: true });
      await f.close();
      const parts = (async function* (): AsyncGenerator<Part> {
        yield { contentType: OCTET_STREAM, contentLocation: location, body: value };
      })();
      return reply.type(multipartContentType(OCTET_STREAM, boundary)).send(multipartStream(boundary, parts, async () => {}));
    } catch (e) {
      await f.close();
      throw e;
    }
  });

  // ---- rendered --------------------------------------------------------------

  const renderParams = (q: Query, frame: number, type: RenderRequest['type']): RenderRequest => ({
    frame,
    type,
    window: parseWindow(q.window),
    viewport: parseViewport(q.viewport),
    quality: parseQuality(q.quality),
  });

  /** One image, or multipart/related of one image per instance when asked for. */
  const sendRendered = async (req: FastifyRequest<{ Querystring: Query }>, reply: FastifyReply, rows: InstanceSummary[], frame: number): Promise<unknown> => {
    const { type, multipart } = negotiateRendered(req.headers.accept);
    const params = renderParams(req.query, frame, type);
    if (!multipart) {
      const bytes = await withInstance(archive, rows[0], (f) => renderToImage(f, params));
      return reply.type(type).send(bytes);
    }
    const first = await withInstance(archive, rows[0], (f) => renderToImage(f, params));
    const boundary = newBoundary();
    async function* parts(): AsyncGenerator<Part> {
      for (let i = 0; i < rows.length; i++) {
        const body = i === 0 ? first : await withInstance(archive, rows[i], (f) => renderToImage(f, params));
        const r = rows[i];
        yield { contentType: type, contentLocation: `${instanceUrl(r)}/rendered`, body };
      }
    }
    return reply.type(multipartContentType(type, boundary)).send(multipartStream(boundary, parts(), async () => {}));
  };

  route('/studies/:study/series/:series/instances/:sop/rendered', async (req, reply) => sendRendered(req, reply, [await instanceOf(req.params)], 0));

  route('/studies/:study/series/:series/instances/:sop/frames/:frames/rendered', async (req, reply) => {
    const row = await instanceOf(req.params);
    const numbers = parseFrameList(req.params.frames!);
    if (numbers.length !== 1) throw new PixelRequestError(400, 'a rendered frame resource takes one frame number', 'frames');
    return sendRendered(req, reply, [row], numbers[0] - 1);
  });

  route('/studies/:study/series/:series/rendered', async (req, reply) =>
    sendRendered(req, reply, await seriesInstances(archive, checkUid(req.params.study, 'study'), checkUid(req.params.series, 'series')), 0),
  );

  route('/studies/:study/rendered', async (req, reply) => {
    const study = checkUid(req.params.study, 'study');
    const rows: InstanceSummary[] = [];
    for (const s of await studySeries(archive, study)) rows.push(...(await seriesInstances(archive, study, s)));
    return sendRendered(req, reply, rows, 0);
  });

  // ---- thumbnails --------------------------------------------------------------

  /** A small image (size capped) of the first candidate that has pixels; cached per stored file and normalized parameters. */
  const sendThumbnail = async (req: FastifyRequest<{ Querystring: Query }>, reply: FastifyReply, candidates: InstanceSummary[]): Promise<unknown> => {
    const { type } = negotiateRendered(req.headers.accept);
    const { params, variant } = thumbnailRequest(req.query, type);
    let lastError: unknown;
    for (const row of candidates.slice(0, 8)) {
      const cached = await thumbnails.get(row.fileKey, variant);
      if (cached) return reply.type(type).header('cache-control', 'private, max-age=3600').send(cached);
      try {
        const bytes = await withInstance(archive, row, async (f) => {
          params.frame = Math.floor((f.frameCount - 1) / 2); // a multi-frame's middle frame
          return renderToImage(f, params);
        });
        await thumbnails.put(row.fileKey, variant, bytes);
        return reply.type(type).header('cache-control', 'private, max-age=3600').send(bytes);
      } catch (e) {
        if (!(e instanceof PixelDataError) || candidates.length === 1) throw e;
        lastError = e; // e.g. a structured report in the series: try the next instance
      }
    }
    throw lastError;
  };

  /** The series' instances with the middle one first. */
  const middleFirst = (list: InstanceSummary[]): InstanceSummary[] => {
    const mid = Math.floor((list.length - 1) / 2);
    return [list[mid], ...list.slice(0, mid), ...list.slice(mid + 1)];
  };

  route('/studies/:study/series/:series/instances/:sop/thumbnail', async (req, reply) => sendThumbnail(req, reply, [await instanceOf(req.params)]));

  route('/studies/:study/series/:series/thumbnail', async (req, reply) =>
    sendThumbnail(req, reply, middleFirst(await seriesInstances(archive, checkUid(req.params.study, 'study'), checkUid(req.params.series, 'series')))),
  );

  route('/studies/:study/thumbnail', async (req, reply) => {
    const study = checkUid(req.params.study, 'study');
    const [firstSeries] = await studySeries(archive, study);
    return sendThumbnail(req, reply, middleFirst(await seriesInstances(archive, study, firstSeries)));
  });

  registerWadoUri(scope, archive);
}

/** Native Pixel Data streamed from the file in 1 MB pieces, little endian (swapped when stored big endian). */
async function* nativePixelStream(f: PixelFile): AsyncGenerator<Uint8Array> {
  const el = f.pixelData!;
  const bigEndian = !f.transferSyntax.littleEndian || f.transferSyntax.uid === '1.2.840.113619.5.2';
  const ba = f.image.bitsAllocated;
  const unit = bigEndian ? (ba >= 16 ? ba / 8 : el.vr === 'OW' ? 2 : 1) : 1;
  const end = el.valueOffset! + el.length;
  for (let pos = el.valueOffset!; pos < end; pos += STREAM_CHUNK) {
    const chunk = await f.source.read(pos, Math.min(STREAM_CHUNK, end - pos));
    if (chunk.length === 0) throw new PixelDataError('malformed', 'stored file ends inside Pixel Data');
    if (unit === 1) {
      yield chunk;
      continue;
    }
    const copy = Uint8Array.from(chunk);
    for (let o = 0; o + unit <= copy.length; o += unit) {
      for (let i = o, j = o + unit - 1; i < j; i++, j--) {
        const t = copy[i];
        copy[i] = copy[j];
        copy[j] = t;
      }
    }
    yield copy;
  }
}
