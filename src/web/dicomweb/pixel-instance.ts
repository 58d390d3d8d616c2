/** Finding a stored instance for a pixel request and turning pixel errors into problems. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Archive, InstanceSummary } from '../../archive/index.js';
import { openFileSource, PixelDataError, PixelFile } from '../../dicom/render/index.js';
import { sendProblem } from '../problem.js';
import { PixelRequestError } from './pixel-params.js';

/** The instance row, when it exists in this study and series (the path must name its real parents). */
export async function findInstance(archive: Archive, study: string, series: string | undefined, sop: string): Promise<InstanceSummary> {
  const row = await archive.index.getInstance(sop);
  if (!row || row.studyInstanceUid !== study || (series !== undefined && row.seriesInstanceUid !== series)) {
    throw new PixelRequestError(404, `instance ${sop} is not stored in ${series ? `series ${series} of ` : ''}study ${study}`);
  }
  return row;
}

/** Instances of a series in display order; 404 when the series is not in the study. */
export async function seriesInstances(archive: Archive, study: string, series: string): Promise<InstanceSummary[]> {
  const list = (await archive.index.listInstances(series)).filter((i) => i.studyInstanceUid === study);
  if (list.length === 0) throw new PixelRequestError(404, `series ${series} of study ${study} is not stored`);
  return list;
}

export async function studySeries(archive: Archive, study: string): Promise<string[]> {
  const series = await archive.index.listSeries(study);
  if (series.length === 0) throw new PixelRequestError(404, `study ${study} is not stored`);
  return series.map((s) => s.seriesInstanceUid);
}

export async function openInstance(archive: Archive, row: InstanceSummary): Promise<PixelFile> {
  let source;
  try {
    source = await openFileSource(archive.blobs.path(row.fileKey));
  } catch (e) {
    throw new PixelDataError('malformed', `the stored file of instance ${row.sopInstanceUid} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return PixelFile.open(source);
}

/** Runs `fn` with the opened file and closes it after, unless `fn` hands it on (returns true). */
export async function withInstance<T>(archive: Archive, row: InstanceSummary, fn: (f: PixelFile) => Promise<T>): Promise<T> {
  const f = await openInstance(archive, row);
  try {
    return await fn(f);
  } finally {
    await f.close();
  }
}

const PIXEL_STATUS = { 'not-an-image': 404, 'frame-out-of-range': 404, unsupported: 406, malformed: 500 } as const;

/** One place that turns a pixel route's failure into a problem response. */
export function sendPixelError(req: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof PixelRequestError) {
    const title = err.status === 400 ? 'Bad request' : err.status === 404 ? 'Not found' : 'Not acceptable';
    return sendProblem(reply, { type: 'about:blank', title, status: err.status, detail: err.message, ...(err.field ? { field: err.field } : {}) });
  }
  if (err instanceof PixelDataError) {
    const status = PIXEL_STATUS[err.kind];
    if (status === 500) req.log.error({ err }, 'stored pixel data cannot be served');
    const title = status === 404 ? 'Not found' : status === 406 ? 'Not acceptable' : 'Stored object cannot be read';
    return sendProblem(reply, { type: `urn:open-pacs:problem:pixel-${err.kind}`, title, status, detail: err.message });
  }
  req.log.error({ err }, 'pixel request failed');
  return sendProblem(reply, { type: 'about:blank', title: 'Internal error', status: 500, detail: 'internal error (see the server log)' });
}
