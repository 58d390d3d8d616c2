/**
 * STOW-RS (PS3.18 10.5): POST /studies and /studies/{study} with
 * `multipart/related; type="application/dicom"`, one Part 10 file per part. Each part is
 * streamed into the archive's durable ingest (the one C-STORE uses) as it arrives: its
 * File Meta Information is read first (it names the SOP instance and transfer syntax),
 * the data set bytes follow unchanged. A part that fails is reported in
 * FailedSOPSequence and leaves nothing behind; the others are stored.
 *
 * Status: 200 all stored, 202 some failed, 409 none stored (PS3.18 10.5.3). Failure
 * reasons are the C-STORE statuses of the archive: 0xA900 the data set does not match
 * its meta header or the study of the path, 0xC000 cannot be parsed (or not Part 10),
 * 0xA700 out of resources (or a header over limits.dataset.maxHeaderBytes), 0x0111
 * duplicate refused, 0x0110 anything else.
 *
 * UIDs are checked where they enter (issue 15 item 7): the part's transfer-syntax
 * parameter and its File Meta Information's SOP Class, SOP Instance and Transfer Syntax
 * UIDs here (a SOP UID that is not a UID fails its part with 0xA900 and is not echoed in
 * FailedSOPSequence; a transfer syntax that is not a UID with 0xC000), the data set's by
 * the ingest. The Warning header is built by an encoder, whatever the messages hold.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Archive } from '../../archive/archive.js';
import type { StoreSink } from '../../archive/ingest.js';
import { locateInstances } from '../../archive/query.js';
import { readMetaHeader } from '../../dicom/part10.js';
import { Status, StatusError, statusOfError } from '../../dicom/status.js';
import { quoteValue, uidProblem } from '../../dicom/uids.js';
import { warningValue } from '../header-values.js';
import { checkUid, DicomwebError } from './errors.js';
import { DICOM_JSON, negotiateDicomJson, parseMediaType } from './media-types.js';
import { checkBoundary, MultipartError, MultipartReader } from './multipart.js';

/** Largest File Meta Information accepted in a part. */
const MAX_META_BYTES = 64 * 1024;

export interface StowContext {
  archive: () => Archive;
  baseUrl: (req: FastifyRequest) => string;
  maxBytes: () => number;
}

interface PartResult {
  sopClassUid?: string;
  sopInstanceUid?: string;
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
  failure?: { reason: number; message: string };
  /** The body ended inside this part: nothing follows. */
  truncated?: boolean;
}

/** Why one part cannot be stored, with its Failure Reason (a status, as the archive's errors). */
class PartFailure extends StatusError {
  override readonly name = 'PartFailure';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Where the File Meta Information ends in `head` (explicit VR little endian group 0002
 * elements after the preamble and 'DICM'), or undefined when more bytes are needed.
 */
function metaEnd(head: Buffer): number | undefined {
  if (head.length < 132) return undefined;
  if (head.toString('latin1', 128, 132) !== 'DICM') throw new PartFailure(Status.CannotUnderstand, "not a DICOM Part 10 file (no 'DICM' at offset 128)");
  let o = 132;
  for (;;) {
    if (o + 8 > head.length) return undefined;
    if (head.readUInt16LE(o) !== 0x0002) return o;
    const vr = head.toString('latin1', o + 4, o + 6);
    if (['OB', 'OW', 'OF', 'SQ', 'UT', 'UN'].includes(vr)) {
      if (o + 12 > head.length) return undefined;
      o += 12 + head.readUInt32LE(o + 8);
    } else o += 8 + head.readUInt16LE(o + 6);
    if (o > MAX_META_BYTES) throw new PartFailure(Status.CannotUnderstand, 'File Meta Information too long');
  }
}

/** A UID of the part that is not a UID: the part fails with `reason`, naming the attribute. */
function checkPartUid(value: string, name: string, reason: number): void {
  const problem = uidProblem(value);
  if (problem) throw new PartFailure(reason, `${name} is not a UID (${problem}): ${quoteValue(value)}`);
}

/** Stores one part: its meta header first, then the data set bytes into the ingest as they arrive. */
async function storePart(
  archive: Archive,
  body: AsyncIterable<Buffer>,
  req: FastifyRequest,
  study: string | undefined,
  partSyntax: string | undefined,
): Promise<PartResult> {
  const result: PartResult = {};
  let head: Buffer | undefined = Buffer.alloc(0);
  let sink: StoreSink | undefined;
  try {
    if (partSyntax !== undefined) checkPartUid(partSyntax, "the part's transfer-syntax parameter", Status.CannotUnderstand);
    for await (const chunk of body) {
      if (head) {
        head = head.length ? Buffer.concat([head, chunk]) : chunk;
        const end = metaEnd(head);
        if (end === undefined) {
          if (head.length > MAX_META_BYTES) throw new PartFailure(Status.CannotUnderstand, 'File Meta Information too long');
          continue;
        }
        let meta;
        try {
          meta = readMetaHeader(head.subarray(0, end)).meta;
        } catch (err) {
          throw new PartFailure(Status.CannotUnderstand, `File Meta Information: ${(err as Error).message}`);
        }
        if (!meta.mediaStorageSopClassUid || !meta.mediaStorageSopInstanceUid) {
          throw new PartFailure(Status.CannotUnderstand, 'File Meta Information lacks the Media Storage SOP Class or Instance UID');
        }
        checkPartUid(meta.mediaStorageSopInstanceUid, 'MediaStorageSOPInstanceUID (0002,0003)', Status.DataSetDoesNotMatchSopClass);
        result.sopInstanceUid = meta.mediaStorageSopInstanceUid;
        checkPartUid(meta.mediaStorageSopClassUid, 'MediaStorageSOPClassUID (0002,0002)', Status.DataSetDoesNotMatchSopClass);
        result.sopClassUid = meta.mediaStorageSopClassUid;
        checkPartUid(meta.transferSyntaxUid, 'TransferSyntaxUID (0002,0010)', Status.CannotUnderstand);
        sink = archive.beginStore({
          sopClassUid: result.sopClassUid,
          sopInstanceUid: result.sopInstanceUid,
          transferSyntaxUid: meta.transferSyntaxUid,
          callingAeTitle: 'DICOMWEB',
          peerAddress: req.ip,
          ...(study ? { studyInstanceUid: study } : {}),
        });
        const rest = head.subarray(end);
        head = undefined;
        if (rest.length) await sink.write(rest);
        continue;
      }
      await sink!.write(chunk);
    }
    if (head) throw new PartFailure(Status.CannotUnderstand, 'part ends inside its File Meta Information (not a DICOM Part 10 file?)');
    const s = sink!;
    sink = undefined;
    await s.end();
    return result;
  } catch (err) {
    await sink?.abort(err as Error);
    if (err instanceof DicomwebError) throw err; // the body limit: the whole request fails
    if (err instanceof MultipartError)
      return { ...result, truncated: true, failure: { reason: Status.CannotUnderstand, message: `malformed multipart body: ${err.message}` } };
    const reason = statusOfError(err, Status.ProcessingFailure);
    return { ...result, failure: { reason, message: (err as Error).message } };
  }
}

export function registerStow(scope: FastifyInstance, ctx: StowContext): void {
  const stow = async (req: FastifyRequest<{ Params: { study?: string } }>, reply: FastifyReply) => {
    const study = req.params.study === undefined ? undefined : checkUid(req.params.study, 'StudyInstanceUID');
    negotiateDicomJson(req.headers.accept);
    const ct = parseMediaType(req.headers['content-type'] ?? '');
    const type = ct?.params.get('type')?.toLowerCase();
    if (!ct || ct.essence !== 'multipart/related' || (type !== undefined && type !== 'application/dicom')) {
      throw new DicomwebError(
        'unsupported-media-type',
        `STOW-RS takes multipart/related; type="application/dicom" (got ${JSON.stringify(req.headers['content-type'] ?? null)})`,
        'Content-Type',
      );
    }
    const boundary = checkBoundary(ct.params.get('boundary'));
    const max = ctx.maxBytes();
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > max) {
      throw new DicomwebError('payload-too-large', `the request body (${declared} bytes) is larger than the limit of ${max} bytes`);
    }
    const archive = ctx.archive();
    const reader = new MultipartReader(req.raw, boundary, max);
    const results: PartResult[] = [];
    let framing: string | undefined;
    try {
      for await (const p of reader.parts()) {
        const pt = p.headers.get('content-type');
        const parsed = pt === undefined ? undefined : parseMediaType(pt);
        const ptype = pt === undefined ? undefined : parsed?.essence;
        if (ptype !== undefined && ptype !== 'application/dicom') {
          for await (const _ of p.body) void _;
          results.push({ failure: { reason: Status.CannotUnderstand, message: `part of type ${pt} (only application/dicom is stored)` } });
          continue;
        }
        const r = await storePart(archive, p.body, req, study, parsed?.params.get('transfer-syntax'));
        results.push(r);
        if (r.truncated) break;
      }
    } catch (err) {
      if (!(err instanceof MultipartError)) throw err;
      framing = err.message;
    }
    if (framing !== undefined && results.length === 0) throw new DicomwebError('bad-request', `malformed multipart body: ${framing}`, 'body');
    if (results.length === 0) throw new DicomwebError('bad-request', 'the multipart body has no parts', 'body');
    if (framing !== undefined) results.push({ failure: { reason: Status.CannotUnderstand, message: `malformed multipart body: ${framing}` } });

    const base = ctx.baseUrl(req);
    const stored = results.filter((r) => !r.failure);
    const failed = results.filter((r) => r.failure);
    for (const r of failed) req.log.info({ sopInstanceUid: r.sopInstanceUid, reason: r.failure!.reason, err: r.failure!.message }, 'STOW-RS part failed');
    const studyUids = new Map<string, string>();
    if (stored.length) {
      const uids = stored.map((r) => r.sopInstanceUid!);
      for (const row of await locateInstances(archive.index, uids))
        studyUids.set(row.sopInstanceUid, `${row.studyInstanceUid}/series/${row.seriesInstanceUid}`);
    }
    const body: Record<string, unknown> = {};
    const studies = new Set([...studyUids.values()].map((s) => s.split('/')[0]));
    if (study || studies.size === 1) body['00081190'] = { vr: 'UR', Value: [`${base}/studies/${study ?? [...studies][0]}`] };
    if (failed.length) {
      body['00081198'] = {
        vr: 'SQ',
        Value: failed.map((r) => ({
          ...(r.sopClassUid ? { '00081150': { vr: 'UI', Value: [r.sopClassUid] } } : {}),
          ...(r.sopInstanceUid ? { '00081155': { vr: 'UI', Value: [r.sopInstanceUid] } } : {}),
          '00081197': { vr: 'US', Value: [r.failure!.reason] },
        })),
      };
    }
    if (stored.length) {
      body['00081199'] = {
        vr: 'SQ',
        Value: stored.map((r) => ({
          '00081150': { vr: 'UI', Value: [r.sopClassUid] },
          '00081155': { vr: 'UI', Value: [r.sopInstanceUid] },
          '00081190': { vr: 'UR', Value: [`${base}/studies/${studyUids.get(r.sopInstanceUid!)}/instances/${r.sopInstanceUid}`] },
        })),
      };
    }
    const status = failed.length === 0 ? 200 : stored.length ? 202 : 409;
    if (failed.length) reply.header('warning', warningValue(`${failed.length} of ${results.length} instances were not stored: ${failed[0].failure!.message}`));
    return reply.code(status).type(DICOM_JSON).send(JSON.stringify(body));
  };

  scope.post('/studies', stow);
  scope.post('/studies/:study', stow);
}
