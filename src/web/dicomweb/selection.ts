/** The study / series / instance a WADO-RS path names, checked, as the archive's retrieve selection. */
import type { FastifyRequest } from 'fastify';
import type { RetrieveSelection } from '../../archive/query.js';
import { checkUid, DicomwebError } from './errors.js';

export type ResourceParams = { study: string; series?: string; instance?: string };

export interface Resource {
  selection: RetrieveSelection;
  /** 'study 1.2.3' / 'series 1.2.4 of study 1.2.3' ..., for messages. */
  describe: string;
  study: string;
  series?: string;
  instance?: string;
}

export function resourceOf(req: FastifyRequest<{ Params: ResourceParams }>): Resource {
  const study = checkUid(req.params.study, 'StudyInstanceUID');
  const series = req.params.series === undefined ? undefined : checkUid(req.params.series, 'SeriesInstanceUID');
  const instance = req.params.instance === undefined ? undefined : checkUid(req.params.instance, 'SOPInstanceUID');
  const selection: RetrieveSelection = {
    studyInstanceUids: [study],
    ...(series ? { seriesInstanceUids: [series] } : {}),
    ...(instance ? { sopInstanceUids: [instance] } : {}),
  };
  const describe = instance ? `instance ${instance} of series ${series}` : series ? `series ${series} of study ${study}` : `study ${study}`;
  return { selection, describe, study, series, instance };
}

export const notFound = (r: Resource): DicomwebError => new DicomwebError('not-found', `no ${r.describe} in this archive`);
