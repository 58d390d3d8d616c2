/**
 * WADO-RS metadata (PS3.18 10.4.1.1.2): the DICOM JSON of every instance of a study,
 * series or one instance, straight from the index (no file read). The stored JSON text is
 * concatenated as it is, not parsed: only the Pixel Data attribute (stored without a
 * value) gets its BulkDataURI, and Available Transfer Syntax UID (0008,3002) says how the
 * instance is stored. Streamed page by page.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Archive } from '../../archive/archive.js';
import { iterateInstanceJson, type InstanceJsonRow } from '../../archive/query.js';
import { pathOf } from '../header-values.js';
import { negotiateDicomJson } from './media-types.js';
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

export function registerMetadata(scope: FastifyInstance, ctx: { archive: () => Archive; baseUrl: (req: FastifyRequest) => string }): void {
  const metadata = async (req: FastifyRequest<{ Params: ResourceParams }>, reply: FastifyReply) => {
    const type = negotiateDicomJson(req.headers.accept);
    const resource = resourceOf(req);
    const pages = iterateInstanceJson(ctx.archive().index, resource.selection)[Symbol.asyncIterator]();
    const first = await pages.next();
    if (first.done) throw notFound(resource);
    const base = ctx.baseUrl(req);
    const body = (async function* () {
      let sep = '[';
      let page: IteratorResult<InstanceJsonRow[]> = first;
      while (!page.done) {
        yield sep + page.value.map((row) => metadataText(row, base)).join(',');
        sep = ',';
        page = await pages.next();
      }
      yield ']';
    })();
    return reply.type(type).send(Readable.from(body, { objectMode: false }));
  };

  scope.get('/studies/:study/metadata', metadata);
  scope.get('/studies/:study/series/:series/metadata', metadata);
  scope.get('/studies/:study/series/:series/instances/:instance/metadata', metadata);
}
