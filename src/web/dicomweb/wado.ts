/**
 * WADO-RS retrieval of instances (PS3.18 10.4): a study, a series or one instance as
 * `multipart/related; type="application/dicom"`, one Part 10 file per part, pulled only
 * as fast as the client reads: files up to 4 MiB read whole (the next one while the
 * current one is sent), larger ones streamed from the blob store.
 *
 * Transfer syntax (PS3.18 8.7.3.5.2): `transfer-syntax=*` sends every file exactly as
 * stored; no parameter means Explicit VR Little Endian, as does asking for it: an
 * instance stored otherwise is converted (decompressed by src/dicom/codecs, re-encoded)
 * behind a new File Meta Information. Another syntax is served only when every selected
 * instance is stored in it; else 406.
 */
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Archive } from '../../archive/archive.js';
import type { InstanceSummary } from '../../archive/index-types.js';
import { describeRetrieve, iterateRetrieve } from '../../archive/query.js';
import { buildMetaHeader } from '../../dicom/part10.js';
import { datasetIn, isConvertible } from '../../services/retrieve-sub-operations.js';
import { DicomwebError } from './errors.js';
import { acceptableDicomSyntaxes, EXPLICIT_VR_LITTLE_ENDIAN } from './media-types.js';
import { newBoundary, writeMultipart } from './multipart.js';
import { notFound, resourceOf, type ResourceParams } from './selection.js';

/** The first acceptable syntax every stored instance can be sent in; '*' = as stored. */
export function chooseSyntax(acceptable: readonly string[], stored: readonly string[]): string | undefined {
  for (const ts of acceptable) {
    if (ts === '*') return ts;
    if (ts === EXPLICIT_VR_LITTLE_ENDIAN && stored.every((s) => s === ts || isConvertible(s))) return ts;
    if (stored.every((s) => s === ts)) return ts;
  }
  return undefined;
}

/** Stored files up to this size are read whole (one read), larger ones streamed. */
const WHOLE_READ_MAX = 4 << 20;

/** One instance as a Part 10 part: the stored file, or converted to Explicit VR Little Endian. */
async function part(archive: Archive, inst: InstanceSummary, ts: string): Promise<{ contentType: string; body: AsyncIterable<Buffer> | Buffer }> {
  if (ts === '*' || ts === inst.transferSyntaxUid) {
    const contentType = `application/dicom; transfer-syntax=${inst.transferSyntaxUid}`;
    if (inst.fileSize <= WHOLE_READ_MAX) return { contentType, body: await readFile(archive.blobs.path(inst.fileKey)) };
    return { contentType, body: archive.blobs.open(inst.fileKey) };
  }
  const { data, close } = await datasetIn(archive, inst, ts);
  const meta = buildMetaHeader({ sopClassUid: inst.sopClassUid, sopInstanceUid: inst.sopInstanceUid, transferSyntaxUid: ts });
  const body = Buffer.isBuffer(data)
    ? Buffer.concat([meta, data])
    : (async function* () {
      try {
        yield meta;
        yield* data;
      } finally {
        close();
      }
    })();
  return { contentType: `application/dicom; transfer-syntax=${ts}`, body };
}

export function registerWado(scope: FastifyInstance, ctx: { archive: () => Archive }): void {
  const retrieve = async (req: FastifyRequest<{ Params: ResourceParams }>, reply: FastifyReply) => {
    const resource = resourceOf(req);
    const acceptable = acceptableDicomSyntaxes(req.headers.accept);
    if (acceptable.length === 0) {
      throw new DicomwebError('not-acceptable', `instances are available as multipart/related; type="application/dicom" only (Accept: ${req.headers.accept})`, 'Accept');
    }
    const archive = ctx.archive();
    const summary = await describeRetrieve(archive.index, resource.selection);
    if (summary.count === 0) throw notFound(resource);
    const stored = [...new Set(summary.pairs.map((p) => p.transferSyntaxUid))];
    const ts = chooseSyntax(acceptable, stored);
    if (!ts) {
      throw new DicomwebError('not-acceptable',
        `cannot send ${resource.describe} in ${acceptable.join(', ')}: stored as ${stored.join(', ')}; ask for transfer-syntax=* (as stored) or ${EXPLICIT_VR_LITTLE_ENDIAN}`, 'Accept');
    }
    const boundary = newBoundary();
    // The next instance is read while the current one is sent (at most two held: bounded by WHOLE_READ_MAX).
    const parts = (async function* () {
      let next: Promise<Awaited<ReturnType<typeof part>>> | undefined;
      for await (const inst of iterateRetrieve(archive.index, resource.selection)) {
        const p = part(archive, inst, ts);
        p.catch(() => undefined);
        if (next) yield await next;
        next = p;
      }
      if (next) yield await next;
    })();
    const stream = Readable.from(writeMultipart(boundary, parts), { objectMode: false });
    stream.on('error', (err) => req.log.warn({ err: err.message, resource: resource.describe }, 'WADO-RS response ended early'));
    return reply
      .header('content-type', `multipart/related; type="application/dicom"; boundary=${boundary}`)
      .send(stream);
  };

  scope.get('/studies/:study', retrieve);
  scope.get('/studies/:study/series/:series', retrieve);
  scope.get('/studies/:study/series/:series/instances/:instance', retrieve);
}
