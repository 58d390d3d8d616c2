/** Finding a stored instance for a pixel request and turning pixel errors into problems. */
import type { Archive, InstanceSummary } from '../../archive/index.js';
import { openFileSource, PixelDataError, PixelFile } from '../../dicom/render/index.js';
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
