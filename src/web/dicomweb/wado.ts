/**
 * WADO-RS retrieval of instances (PS3.18 10.4): a study, a series or one instance as
 * `multipart/related; type="application/dicom"`, one Part 10 file per part, pulled only
 * as fast as the client reads: files up to 4 MiB read whole (the next one while the
 * current one is sent), larger ones streamed from the blob store. A response sending files
 * as stored lists them first and carries a Content-Length (each file's size checked against
 * the index); a converting one is chunked.
 *
 * Transfer syntax (PS3.18 8.7.3.5.2): `transfer-syntax=*` sends every file exactly as
 * stored; no parameter means Explicit VR Little Endian, as does asking for it: an
 * instance stored otherwise is converted (decompressed by src/dicom/codecs, re-encoded)
 * behind a new File Meta Information. Another syntax is served only when every selected
 * instance is stored in it; else 406. Conversion holds an instance in memory: one whose
 * stored file or decoded pixel data is over limits.dataset.maxTranscodeBytes is refused
 * with 406 asking for transfer-syntax=* (checked on the indexed sizes before the response
 * starts; the decoded size of the first instance too, others mid-response end it early).
 *
 * Part headers are built by the media type encoder (header-values.ts): a stored transfer
 * syntax that is not a token is quoted, never pasted.
 */
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Archive } from '../../archive/archive.js';
import type { InstanceSummary } from '../../archive/index-types.js';
import { describeRetrieve, describeSubjects, iterateRetrieve } from '../../archive/query.js';
import type { AuditRecorder } from '../../audit/index.js';
import { webActor } from '../audit-actor.js';
import { buildMetaHeader } from '../../dicom/part10.js';
import { datasetIn, isConvertible } from '../../archive/retrieval.js';
import { TranscodeLimitError } from '../../archive/transcode-limit.js';
import { mediaType } from '../header-values.js';
import { DicomwebError } from './errors.js';
import { acceptableDicomSyntaxes, EXPLICIT_VR_LITTLE_ENDIAN } from './media-types.js';
import { closeDelimiter, newBoundary, partHead, writeMultipart } from './multipart.js';
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

/**
 * Up to this many instances sent as stored are listed before the response starts, so it
 * carries a Content-Length (no chunked framing; the client can size its buffer). Larger
 * selections are streamed page by page, chunked.
 */
const LISTED_MAX = 20_000;

/** A stored file's size is not what the index says: the response (with its Content-Length) cannot be completed. */
export class StoredFileSizeError extends Error {
  override readonly name = 'StoredFileSizeError';
  constructor(
    readonly sopInstanceUid: string,
    readonly indexed: number,
    readonly actual: number,
  ) {
    super(`the stored file of ${sopInstanceUid} has ${actual} bytes, the index says ${indexed}`);
  }
}

/** The stored file's bytes, checked against the size the index holds. */
async function storedFile(archive: Archive, inst: InstanceSummary): Promise<Buffer | AsyncIterable<Buffer>> {
  if (inst.fileSize <= WHOLE_READ_MAX) {
    const bytes = await readFile(archive.blobs.path(inst.fileKey));
    if (bytes.length !== inst.fileSize) throw new StoredFileSizeError(inst.sopInstanceUid, inst.fileSize, bytes.length);
    return bytes;
  }
  return (async function* () {
    let n = 0;
    for await (const chunk of archive.blobs.open(inst.fileKey) as AsyncIterable<Buffer>) {
      n += chunk.length;
      if (n > inst.fileSize) break;
      yield chunk;
    }
    if (n !== inst.fileSize) throw new StoredFileSizeError(inst.sopInstanceUid, inst.fileSize, n);
  })();
}

/** Yields the items of `source` mapped by `load`, the next one loading while the current one is consumed. */
async function* readAhead<T, U>(source: AsyncIterable<T> | Iterable<T>, load: (t: T) => Promise<U>): AsyncGenerator<U> {
  let next: Promise<U> | undefined;
  for await (const item of source) {
    const p = load(item);
    p.catch(() => undefined); // awaited below; this only keeps an early failure from being unhandled
    if (next) yield await next;
    next = p;
  }
  if (next) yield await next;
}

/** One instance as a Part 10 part: the stored file, or converted to Explicit VR Little Endian. */
async function part(archive: Archive, inst: InstanceSummary, ts: string): Promise<{ contentType: string; body: AsyncIterable<Buffer> | Buffer }> {
  if (ts === '*' || ts === inst.transferSyntaxUid) return { contentType: storedType(inst), body: await storedFile(archive, inst) };
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
  return { contentType: mediaType('application/dicom', { 'transfer-syntax': ts }), body };
}

const storedType = (inst: InstanceSummary) => mediaType('application/dicom', { 'transfer-syntax': inst.transferSyntaxUid });

/** 406 for a conversion over limits.dataset.maxTranscodeBytes: the client can have the instances as stored. */
function tooLargeToConvert(err: TranscodeLimitError): DicomwebError {
  return new DicomwebError('not-acceptable', `${err.message}: ask for transfer-syntax=* (as stored)`, 'Accept');
}

/** The first instance to convert whose stored file is over the limit, or undefined (the index's sizes; no file read). */
async function firstTooLarge(archive: Archive, selection: Parameters<typeof iterateRetrieve>[1], ts: string): Promise<TranscodeLimitError | undefined> {
  const limit = archive.limits.maxTranscodeBytes;
  for await (const inst of iterateRetrieve(archive.index, selection)) {
    if (inst.transferSyntaxUid !== ts && inst.fileSize > limit) return new TranscodeLimitError(inst.sopInstanceUid, inst.fileSize, limit, 'stored file');
  }
  return undefined;
}

/** The body of a response sending every listed instance as stored, and its exact length. */
function storedBody(archive: Archive, boundary: string, list: readonly InstanceSummary[]): { length: number; bytes: AsyncGenerator<Buffer> } {
  const heads = list.map((inst, i) => partHead(boundary, storedType(inst), i === 0));
  const tail = closeDelimiter(boundary, list.length > 0);
  let length = tail.length;
  for (let i = 0; i < list.length; i++) length += heads[i].length + list[i].fileSize;
  const bytes = (async function* () {
    let i = 0;
    for await (const body of readAhead(list, (inst) => storedFile(archive, inst))) {
      yield heads[i++];
      if (Buffer.isBuffer(body)) yield body;
      else yield* body;
    }
    yield tail;
  })();
  return { length, bytes };
}

export function registerWado(scope: FastifyInstance, ctx: { archive: () => Archive; audit?: AuditRecorder; auditAs?: () => string }): void {
  const retrieve = async (req: FastifyRequest<{ Params: ResourceParams }>, reply: FastifyReply) => {
    const resource = resourceOf(req);
    const acceptable = acceptableDicomSyntaxes(req.headers.accept);
    if (acceptable.length === 0) {
      throw new DicomwebError(
        'not-acceptable',
        `instances are available as multipart/related; type="application/dicom" only (Accept: ${req.headers.accept})`,
        'Accept',
      );
    }
    const archive = ctx.archive();
    const summary = await describeRetrieve(archive.index, resource.selection);
    if (summary.count === 0) throw notFound(resource);
    const stored = [...new Set(summary.pairs.map((p) => p.transferSyntaxUid))];
    const ts = chooseSyntax(acceptable, stored);
    if (!ts) {
      throw new DicomwebError(
        'not-acceptable',
        `cannot send ${resource.describe} in ${acceptable.join(', ')}: stored as ${stored.join(', ')}; ask for transfer-syntax=* (as stored) or ${EXPLICIT_VR_LITTLE_ENDIAN}`,
        'Accept',
      );
    }
    ctx.audit?.record({
      kind: 'web-retrieve',
      via: 'WADO-RS',
      source: ctx.auditAs?.() ?? 'DICOMweb',
      subjects: await describeSubjects(archive.index, resource.selection),
      ...webActor(req),
    });
    const boundary = newBoundary();
    let bytes: AsyncGenerator<Buffer>;
    if (stored.every((s) => ts === '*' || s === ts) && summary.count <= LISTED_MAX) {
      const list: InstanceSummary[] = [];
      for await (const inst of iterateRetrieve(archive.index, resource.selection)) list.push(inst);
      if (list.length === 0) throw notFound(resource); // deleted since it was counted
      const body = storedBody(archive, boundary, list);
      reply.header('content-length', body.length);
      bytes = body.bytes;
    } else {
      const converting = ts !== '*' && stored.some((s) => s !== ts);
      const tooLarge = converting ? await firstTooLarge(archive, resource.selection, ts) : undefined;
      if (tooLarge) throw tooLargeToConvert(tooLarge);
      // The next instance is read while the current one is sent (at most two held: bounded by WHOLE_READ_MAX).
      const parts = readAhead(iterateRetrieve(archive.index, resource.selection), (inst) => part(archive, inst, ts));
      // The first part before answering: a conversion refused there is a 406, not a cut response.
      let first: IteratorResult<Awaited<ReturnType<typeof part>>>;
      try {
        first = await parts.next();
      } catch (err) {
        if (err instanceof TranscodeLimitError) throw tooLargeToConvert(err);
        throw err;
      }
      if (first.done) throw notFound(resource); // deleted since it was counted
      const head = first.value;
      bytes = writeMultipart(
        boundary,
        (async function* () {
          yield head;
          yield* parts;
        })(),
      );
    }
    const stream = Readable.from(bytes, { objectMode: false });
    stream.on('error', (err) => req.log.warn({ err: err.message, resource: resource.describe }, 'WADO-RS response ended early'));
    return reply.header('content-type', `multipart/related; type="application/dicom"; boundary=${boundary}`).send(stream);
  };

  scope.get('/studies/:study', retrieve);
  scope.get('/studies/:study/series/:series', retrieve);
  scope.get('/studies/:study/series/:series/instances/:instance', retrieve);
}
