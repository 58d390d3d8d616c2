/**
 * WADO-RS metadata (PS3.18 10.4.1.1.2): the DICOM JSON of every instance of a study,
 * series or one instance, straight from the index (no file read). The stored JSON text is
 * concatenated as it is, not parsed: only the Pixel Data attribute (stored without a
 * value) gets its BulkDataURI, and Available Transfer Syntax UID (0008,3002) says how the
 * instance is stored. Streamed page by page.
 */
import { Readable } from 'node:stream';
import { createBrotliCompress, createGzip } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Archive } from '../../archive/archive.js';
import { iterateInstanceJson, studyChangeStamp, type InstanceJsonRow } from '../../archive/query.js';
import { pathOf } from '../header-values.js';
import { negotiateDicomJson } from './media-types.js';
import { BROTLI_OPTIONS, chooseCoding, codedVariant, encode, GZIP_OPTIONS, metadataEtag, metadataEtagMatches, metadataVariant } from './metadata-cache.js';
import { notFound, resourceOf, type ResourceParams } from './selection.js';

const PIXEL_TAGS = ['7FE00010', '7FE00008', '7FE00009'];

/**
 * One instance's stored JSON text with its bulk data URIs and available transfer syntax.
 * The stored text (written by JSON.stringify at ingest) is not parsed; what is added to it
 * is encoded here whatever the index holds: each URI path segment percent-encoded and every
 * added string through JSON.stringify, so no stored value can end a string or add an
 * attribute (issue 15 item 7).
 */
export function metadataText(row: InstanceJsonRow, base: string): string {
  let text = row.json;
  const instanceUrl = base + pathOf('studies', row.studyInstanceUid, 'series', row.seriesInstanceUid, 'instances', row.sopInstanceUid);
  for (const tag of PIXEL_TAGS) {
    const head = `"${tag}":{"vr":"`;
    const at = text.lastIndexOf(head);
    if (at < 0) continue;
    const vrEnd = at + head.length + 2;
    // Only a value-less attribute (what the ingest's header reader stores) is rewritten.
    if (text.slice(vrEnd, vrEnd + 2) !== '"}') continue;
    const vr = text.slice(at + head.length, vrEnd);
    text = `${text.slice(0, at)}${head}${vr}","BulkDataURI":${JSON.stringify(`${instanceUrl}/bulkdata/${tag}`)}}${text.slice(vrEnd + 2)}`;
  }
  const ts = `"00083002":${JSON.stringify({ vr: 'UI', Value: [row.transferSyntaxUid] })}`;
  return text.length > 2 ? `${text.slice(0, -1)},${ts}}` : `{${ts}}`;
}

/** Most bytes of JSON kept to be cached: a larger answer is streamed and computed again next time. */
export const MAX_CACHED_METADATA_BYTES = 64 * 1024 * 1024;

export function registerMetadata(scope: FastifyInstance, ctx: { archive: () => Archive; baseUrl: (req: FastifyRequest) => string }): void {
  const metadata = async (req: FastifyRequest<{ Params: ResourceParams }>, reply: FastifyReply) => {
    const type = negotiateDicomJson(req.headers.accept);
    const resource = resourceOf(req);
    const archive = ctx.archive();
    const base = ctx.baseUrl(req);
    const stamp = await studyChangeStamp(archive.index, resource.study);
    if (stamp === undefined) throw notFound(resource);
    const coding = chooseCoding(req.headers['accept-encoding']);
    // A study without a stamp yet (written by an older node) is answered uncached.
    const variant = stamp === null ? undefined : metadataVariant(stamp, resource.series, resource.instance, base);
    if (variant !== undefined && stamp !== null) {
      const etag = metadataEtag(stamp, variant, coding);
      reply.header('etag', etag).header('cache-control', 'private, no-cache').header('vary', 'Accept-Encoding');
      if (metadataEtagMatches(req.headers['if-none-match'], etag)) return reply.code(304).send();
    }
    // One instance's metadata is a single row: not worth a file.
    const cacheable = variant !== undefined && resource.instance === undefined;
    if (cacheable) {
      const hit = await archive.metadata.get(resource.study, codedVariant(variant, coding));
      if (hit) {
        if (coding !== 'identity') reply.header('content-encoding', coding);
        return reply.type(type).send(hit);
      }
    }
    const pages = iterateInstanceJson(archive.index, resource.selection)[Symbol.asyncIterator]();
    const first = await pages.next();
    if (first.done) {
      reply.removeHeader('etag').removeHeader('cache-control').removeHeader('vary');
      throw notFound(resource);
    }
    // The JSON as sent, kept (up to the cap) for the cache.
    const kept: Buffer[] = [];
    let keptBytes = 0;
    let complete = false;
    const body = (async function* () {
      let sep = '[';
      let page: IteratorResult<InstanceJsonRow[]> = first;
      const emit = (text: string): Buffer => {
        const b = Buffer.from(text, 'utf8');
        if (cacheable && keptBytes <= MAX_CACHED_METADATA_BYTES) {
          kept.push(b);
          keptBytes += b.length;
        }
        return b;
      };
      while (!page.done) {
        yield emit(sep + page.value.map((row) => metadataText(row, base)).join(','));
        sep = ',';
        page = await pages.next();
      }
      yield emit(']');
      complete = true;
    })();
    let stream: Readable = Readable.from(body, { objectMode: false });
    if (coding !== 'identity') {
      reply.header('content-encoding', coding);
      stream = stream.pipe(coding === 'br' ? createBrotliCompress(BROTLI_OPTIONS) : createGzip(GZIP_OPTIONS));
    }
    if (cacheable)
      reply.raw.once('finish', () => {
        if (complete && keptBytes <= MAX_CACHED_METADATA_BYTES) void keep(archive, resource.study, stamp!, variant, Buffer.concat(kept));
      });
    return reply.type(type).send(stream);
  };

  scope.get('/studies/:study/metadata', metadata);
  scope.get('/studies/:study/series/:series/metadata', metadata);
  scope.get('/studies/:study/series/:series/instances/:instance/metadata', metadata);
}

/**
 * Puts one computed answer into the cache in every coding, unless the study changed
 * while it was read (its pages are separate read transactions): the stamp read before
 * must still be the study's, else the JSON may mix two states. Failures only cost speed.
 */
async function keep(archive: Archive, study: string, stamp: string, variant: string, json: Buffer): Promise<void> {
  try {
    if ((await studyChangeStamp(archive.index, study)) !== stamp) return;
    for (const coding of ['identity', 'gzip', 'br'] as const) await archive.metadata.put(study, codedVariant(variant, coding), await encode(json, coding));
  } catch (e) {
    archive.logger.warn({ err: e, study }, 'the metadata of a study could not be cached');
  }
}
