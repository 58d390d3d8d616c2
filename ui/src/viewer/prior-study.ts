// The prior of a study: the same patient's (Patient ID and Issuer, both exact) newest
// study of an earlier Study Date holding the same modality, found by QIDO-RS. Earlier by
// date, not time: two studies of one day are one visit (a CT and its re-scan), not a
// comparison.
import type { HangingProtocol } from '../api.js';
import { str, TAG, type DicomJson } from '../dicom-json.js';
import { needsPrior, protocolApplies, type StudyFacts } from './hanging.js';

/** Who and when the current study is (from any of its QIDO-RS series answers, which carry the patient and study). */
export interface StudyIdentity {
  studyUid: string;
  patientId: string;
  issuer: string;
  /** Study Date, YYYYMMDD. */
  date: string;
}

export function studyIdentity(seriesAnswer: DicomJson, studyUid: string): StudyIdentity {
  return { studyUid, patientId: str(seriesAnswer, TAG.PatientID), issuer: str(seriesAnswer, TAG.IssuerOfPatientID), date: str(seriesAnswer, TAG.StudyDate) };
}

const DATE = /^\d{8}$/;

/**
 * The newest of `candidates` (QIDO-RS study answers) that is the current patient's and of
 * an earlier date; later Study Time first among studies of one date. The server matched
 * Patient ID with its wildcards (`*`, `?` are not escaped in DICOM): here it must be equal.
 */
export function choosePrior(current: StudyIdentity, candidates: readonly DicomJson[]): DicomJson | undefined {
  if (!current.patientId || !DATE.test(current.date)) return undefined;
  const older = candidates.filter((c) => {
    const date = str(c, TAG.StudyDate);
    return (
      str(c, TAG.StudyInstanceUID) !== current.studyUid &&
      str(c, TAG.PatientID) === current.patientId &&
      str(c, TAG.IssuerOfPatientID) === current.issuer &&
      DATE.test(date) &&
      date < current.date
    );
  });
  const when = (c: DicomJson) => `${str(c, TAG.StudyDate)}${str(c, TAG.StudyTime).padEnd(13, '0')}`;
  return older.sort((a, b) => (when(b) < when(a) ? -1 : when(b) > when(a) ? 1 : 0))[0];
}

/** YYYYMMDD of the day before (a DICOM date range's end is inclusive). */
export function dayBefore(date: string): string {
  const d = new Date(Date.UTC(Number(date.slice(0, 4)), Number(date.slice(4, 6)) - 1, Number(date.slice(6)) - 1));
  return `${String(d.getUTCFullYear()).padStart(4, '0')}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`;
}

/** The prior's Study Instance UID (`searchStudies`: QIDO-RS at study level), or undefined when the patient has none (or it cannot be searched). */
export async function findPrior(
  searchStudies: (params: Record<string, string | number | undefined>) => Promise<DicomJson[]>,
  current: StudyIdentity,
  modality: string,
): Promise<string | undefined> {
  if (!current.patientId || !DATE.test(current.date)) return undefined;
  const found = await searchStudies({
    PatientID: current.patientId,
    IssuerOfPatientID: current.issuer || undefined,
    StudyDate: `-${dayBefore(current.date)}`,
    ModalitiesInStudy: modality,
    includefield: TAG.IssuerOfPatientID,
    limit: 200,
  });
  const prior = choosePrior(current, found);
  return prior && str(prior, TAG.StudyInstanceUID);
}

/**
 * The modality whose prior the first protocol that needs one would show (the current
 * study's most frequent), or undefined when no protocol that applies asks for a prior.
 */
export function priorModality(protocols: readonly HangingProtocol[], current: StudyFacts): string | undefined {
  if (!protocols.some((p) => needsPrior(p) && protocolApplies(p, current))) return undefined;
  const counts = new Map<string, number>();
  for (const s of current.series) counts.set(s.modality, (counts.get(s.modality) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
}
