/**
 * WADO-URI (PS3.18 9: Retrieve DICOM Objects by URI): GET /wado?requestType=WADO&studyUID=
 * &seriesUID=&objectUID=, the object as application/dicom (as stored, or transcoded to an
 * uncompressed transfer syntax when `transferSyntax` asks for it) or rendered as
 * image/jpeg (the default) or image/png with frameNumber, windowCenter / windowWidth,
 * rows / columns, region and imageQuality.
 */
import type { FastifyInstance } from 'fastify';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Archive, InstanceSummary } from '../../archive/index.js';
import { decompressDataset, DecompressError } from '../../dicom/codecs/index.js';
import { writeDataset } from '../../dicom/dataset-writer.js';
import { buildMetaHeader, readPart10 } from '../../dicom/part10.js';
import { getTransferSyntax } from '../../dicom/transfer-syntax.js';
import { PixelDataError } from '../../dicom/render/index.js';
import { checkTranscodeSize, decodedPixelBytes, TranscodeLimitError } from '../../archive/transcode-limit.js';
import { contentDisposition } from '../header-values.js';
import { errorHandler } from '../problem.js';
import { findInstance, withInstance } from './pixel-instance.js';
import { checkUid, parseDecimal, parsePositive, parseQuality, parseRegion, PixelRequestError } from './pixel-params.js';
import { renderToImage } from './pixel-render.js';

type Query = Record<string, string | undefined>;

/** Uncompressed transfer syntaxes we transcode to on request. */
const TRANSCODE_TARGETS = new Set(['1.2.840.10008.1.2.1', '1.2.840.10008.1.2']);

/** The first content type of the list we serve (PS3.18 9.1.2.1.3: a comma-separated list, best first). */
function chooseContentType(value: string | undefined): 'application/dicom' | 'image/jpeg' | 'image/png' {
  if (value === undefined || value.trim() === '') return 'image/jpeg';
  for (const raw of value.split(',')) {
    const t = raw.split(';')[0].trim().toLowerCase();
    if (t === 'application/dicom' || t === 'image/jpeg' || t === 'image/png') return t;
    if (t === 'image/*' || t === '*/*') return 'image/jpeg';
  }
  throw new PixelRequestError(406, `contentType '${value.slice(0, 80)}': this server returns application/dicom, image/jpeg or image/png`, 'contentType');
}

/**
 * The stored file re-encoded in `target` (decompressed first when encapsulated). Whole file
 * in memory, so bounded by limits.dataset.maxTranscodeBytes (the stored file before it is
 * read, the decoded pixel data before decoding): 406 over it.
 */
async function transcodedFile(archive: Archive, row: InstanceSummary, target: string): Promise<Buffer> {
  const limit = archive.limits.maxTranscodeBytes;
  try {
    checkTranscodeSize(row.sopInstanceUid, 'stored file', row.fileSize, limit);
    const bytes = await readFile(archive.blobs.path(row.fileKey));
    checkTranscodeSize(row.sopInstanceUid, 'stored file', bytes.length, limit);
    return await convert(bytes, target, limit);
  } catch (e) {
    if (e instanceof TranscodeLimitError) throw new PixelRequestError(406, `${e.message}: ask for it without transferSyntax (as stored)`, 'transferSyntax');
    throw e;
  }
}

async function convert(bytes: Buffer, target: string, limit: number): Promise<Buffer> {
  const { meta, dataset } = readPart10(bytes);
  const stored = getTransferSyntax(meta.transferSyntaxUid);
  if (stored?.encapsulated || !stored) {
    checkTranscodeSize(meta.mediaStorageSopInstanceUid, 'decoded pixel data', decodedPixelBytes(dataset), limit);
    try {
      await decompressDataset(dataset, meta.transferSyntaxUid);
    } catch (e) {
      if (e instanceof DecompressError)
        throw new PixelRequestError(406, `instance stored as ${meta.transferSyntaxUid} cannot be sent as ${target}: ${e.message}`, 'transferSyntax');
      throw new PixelDataError('malformed', (e as Error).message);
    }
  }
  const header = buildMetaHeader({ sopClassUid: meta.mediaStorageSopClassUid, sopInstanceUid: meta.mediaStorageSopInstanceUid, transferSyntaxUid: target });
  return Buffer.concat([header, writeDataset(dataset, target)]);
}

/**
 * presentationUID / presentationSeriesUID (PS3.18 9.1.2.2.x): they go together, only with a
 * rendered image (not application/dicom), and ask the server to render through a stored
 * presentation state. This server does not render presentation states: the request is
 * refused naming why, and how to get the same display (the viewer applies them).
 */
function checkPresentation(q: Query, contentType: string): void {
  if (q.presentationUID === undefined && q.presentationSeriesUID === undefined) return;
  if (q.presentationUID === undefined) throw new PixelRequestError(400, 'presentationSeriesUID goes with presentationUID', 'presentationUID');
  checkUid(q.presentationUID, 'presentationUID');
  checkUid(q.presentationSeriesUID, 'presentationSeriesUID');
  if (contentType === 'application/dicom')
    throw new PixelRequestError(400, 'presentationUID applies to a rendered image (image/jpeg or image/png), not to application/dicom', 'presentationUID');
  throw new PixelRequestError(
    400,
    "rendering through a presentation state (presentationUID) is not supported by this server: retrieve the image and the presentation state (application/dicom) and apply it in a viewer, e.g. /viewer, which applies a series' newest one",
    'presentationUID',
  );
}

export function registerWadoUri(scope: FastifyInstance, archive: Archive): void {
  scope.get<{ Querystring: Query }>('/wado', async (req, reply) => {
    try {
      const q = req.query;
      if (q.requestType !== 'WADO')
        throw new PixelRequestError(
          400,
          `requestType must be WADO${q.requestType === undefined ? '' : `, not '${q.requestType.slice(0, 20)}'`}`,
          'requestType',
        );
      const study = checkUid(q.studyUID, 'studyUID');
      const series = checkUid(q.seriesUID, 'seriesUID');
      const sop = checkUid(q.objectUID, 'objectUID');
      if (q.anonymize !== undefined && q.anonymize !== 'no') throw new PixelRequestError(400, 'anonymize is not supported', 'anonymize');
      const contentType = chooseContentType(q.contentType);
      checkPresentation(q, contentType);
      // Every parameter is checked before the lookup: a bad request is a 400 whether or not the object exists.
      // `*` (any syntax, as the transfer-syntax parameter of PS3.18 8.7.3.5.2 has it; OHIF's WADO-URI
      // image loader sends it) means as stored, like no transferSyntax at all.
      const ts = q.transferSyntax?.trim();
      const transferSyntax = contentType === 'application/dicom' && ts && ts !== '*' ? checkUid(ts, 'transferSyntax') : undefined;
      const center = parseDecimal(q.windowCenter, 'windowCenter');
      const width = parseDecimal(q.windowWidth, 'windowWidth');
      if ((center === undefined) !== (width === undefined))
        throw new PixelRequestError(400, 'windowCenter and windowWidth go together', center === undefined ? 'windowCenter' : 'windowWidth');
      if (width !== undefined && width < 1) throw new PixelRequestError(400, 'windowWidth must be at least 1', 'windowWidth');
      const frameNumber = parsePositive(q.frameNumber, 'frameNumber', 1e9) ?? 1;
      const rows = parsePositive(q.rows, 'rows', 8192);
      const columns = parsePositive(q.columns, 'columns', 8192);
      const fractionRegion = parseRegion(q.region);
      const quality = parseQuality(q.imageQuality ?? q.quality, q.imageQuality !== undefined ? 'imageQuality' : 'quality');
      const row = await findInstance(archive, study, series, sop);

      if (contentType === 'application/dicom') {
        if (transferSyntax !== undefined && transferSyntax !== row.transferSyntaxUid) {
          if (!TRANSCODE_TARGETS.has(transferSyntax)) {
            throw new PixelRequestError(
              406,
              `instance is stored as ${row.transferSyntaxUid}; it can be sent as stored or as ${[...TRANSCODE_TARGETS].join(' or ')}, not ${transferSyntax}`,
              'transferSyntax',
            );
          }
          const body = await transcodedFile(archive, row, transferSyntax);
          return reply.type('application/dicom').header('content-disposition', contentDisposition('object.dcm')).send(body);
        }
        return reply
          .type('application/dicom')
          .header('content-disposition', contentDisposition('object.dcm'))
          .send(createReadStream(archive.blobs.path(row.fileKey)));
      }

      const bytes = await withInstance(archive, row, (f) =>
        renderToImage(f, {
          frame: frameNumber - 1,
          type: contentType,
          window: center !== undefined && width !== undefined ? { center, width, fn: 'linear' } : undefined,
          viewport: { width: columns, height: rows },
          fractionRegion,
          quality,
        }),
      );
      return reply.type(contentType).send(bytes);
    } catch (err) {
      return errorHandler(err, req, reply);
    }
  });
}
