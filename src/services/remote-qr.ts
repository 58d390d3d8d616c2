/**
 * Query/retrieve against one remote AE for the study browser: a Study Root C-FIND whose
 * matches come back as DICOM JSON (the shape QIDO-RS answers with, so the browser renders
 * both alike), and a Study Root C-MOVE with progress from the pending responses.
 */
import { Dataset } from '../dicom/dataset.js';
import { datasetToJson, type DicomJsonObject } from '../dicom/dataset-json.js';
import { readDataset } from '../dicom/dataset-reader.js';
import { putString, writeDataset } from '../dicom/dataset-writer.js';
import { keywordToTag } from '../dicom/dictionary.js';
import { Status } from '../dicom/status.js';
import { EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN } from '../dicom/transfer-syntax.js';
import { DimseConnection } from '../dimse/dimse-connection.js';
import { connect } from '../net/index.js';
import { QR_SOP_CLASSES } from './qr-identifier.js';
import { cFind, cMove, type RetrieveResult, type SubOperationProgress } from './qr-scu.js';
import type { StoreTarget } from './storage-scu.js';

export type RemoteLevel = 'STUDY' | 'SERIES';

/** Matching keys (PS3.4 C.2.2: `*` and `?` wildcards, date ranges `YYYYMMDD-YYYYMMDD`). */
export interface RemoteFindKeys {
  PatientName?: string;
  PatientID?: string;
  StudyDate?: string;
  Modality?: string;
  AccessionNumber?: string;
  StudyDescription?: string;
  StudyInstanceUID?: string;
}

const VR_OF: Record<string, 'PN' | 'LO' | 'DA' | 'CS' | 'SH' | 'UI' | 'TM' | 'IS'> = {
  PatientName: 'PN',
  PatientID: 'LO',
  PatientBirthDate: 'DA',
  PatientSex: 'CS',
  StudyDate: 'DA',
  StudyTime: 'TM',
  AccessionNumber: 'SH',
  StudyDescription: 'LO',
  StudyInstanceUID: 'UI',
  ModalitiesInStudy: 'CS',
  NumberOfStudyRelatedSeries: 'IS',
  NumberOfStudyRelatedInstances: 'IS',
  SeriesInstanceUID: 'UI',
  Modality: 'CS',
  SeriesNumber: 'IS',
  SeriesDescription: 'LO',
  NumberOfSeriesRelatedInstances: 'IS',
};

const RETURN_KEYS: Record<RemoteLevel, string[]> = {
  STUDY: [
    'PatientName',
    'PatientID',
    'PatientBirthDate',
    'PatientSex',
    'StudyDate',
    'StudyTime',
    'AccessionNumber',
    'StudyDescription',
    'StudyInstanceUID',
    'ModalitiesInStudy',
    'NumberOfStudyRelatedSeries',
    'NumberOfStudyRelatedInstances',
  ],
  SERIES: ['StudyInstanceUID', 'SeriesInstanceUID', 'Modality', 'SeriesNumber', 'SeriesDescription', 'NumberOfSeriesRelatedInstances'],
};

/** The C-FIND identifier: the level's return keys, with the given matching values. */
export function findIdentifier(level: RemoteLevel, keys: RemoteFindKeys): Dataset {
  const ds = new Dataset();
  putString(ds, keywordToTag('QueryRetrieveLevel')!, 'CS', level);
  const values: Record<string, string> = {};
  for (const [k, v] of Object.entries(keys)) if (v) values[k === 'Modality' && level === 'STUDY' ? 'ModalitiesInStudy' : k] = v;
  const wanted = new Set([...RETURN_KEYS[level], ...Object.keys(values)]);
  for (const kw of wanted) putString(ds, keywordToTag(kw)!, VR_OF[kw], values[kw] ?? '');
  if (Object.values(values).some((v) => /[^\x20-\x7e]/.test(v))) putString(ds, keywordToTag('SpecificCharacterSet')!, 'CS', 'ISO_IR 192');
  return ds;
}

const QR_CONTEXT = (abstractSyntax: string) => [{ abstractSyntax, transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN] }];

async function withAssociation<T>(target: StoreTarget, sopClassUid: string, fn: (conn: DimseConnection, ts: string) => Promise<T>): Promise<T> {
  const assoc = await connect({
    host: target.host,
    port: target.port,
    callingAeTitle: target.callingAeTitle,
    calledAeTitle: target.calledAeTitle,
    presentationContexts: QR_CONTEXT(sopClassUid),
    tls: target.tls,
    connectTimeoutMs: 10_000,
    artimTimeoutMs: 10_000,
  });
  try {
    const conn = new DimseConnection(assoc);
    const ctx = [...assoc.contexts.values()].find((c) => c.abstractSyntax === sopClassUid);
    if (!ctx) throw new Error(`${target.calledAeTitle} did not accept ${sopClassUid}`);
    return await fn(conn, ctx.transferSyntax);
  } finally {
    await assoc.release().catch(() => assoc.abort());
  }
}

export interface RemoteFindResult {
  status: number;
  errorComment?: string;
  matches: DicomJsonObject[];
  /** True when C-CANCEL was sent at `limit` matches. */
  truncated: boolean;
}

export async function remoteFind(target: StoreTarget, level: RemoteLevel, keys: RemoteFindKeys, limit = 500): Promise<RemoteFindResult> {
  const cls = QR_SOP_CLASSES.StudyRootFind;
  return withAssociation(target, cls, async (conn, ts) => {
    const matches: DicomJsonObject[] = [];
    const r = await cFind(conn, cls, writeDataset(findIdentifier(level, keys), ts), {
      cancelAfter: limit,
      onMatch: (bytes, syntax) => {
        if (matches.length < limit) matches.push(datasetToJson(readDataset(bytes, syntax)));
      },
    });
    return { status: r.status, errorComment: r.errorComment, matches, truncated: r.status === Status.Cancel };
  });
}

/** C-MOVE of a study (or one series) from `target` to `destination`. */
export async function remoteMove(
  target: StoreTarget,
  destination: string,
  uids: { studyUid: string; seriesUid?: string },
  onProgress: (p: SubOperationProgress) => void,
): Promise<RetrieveResult> {
  const cls = QR_SOP_CLASSES.StudyRootMove;
  return withAssociation(target, cls, async (conn, ts) => {
    const ds = new Dataset();
    putString(ds, keywordToTag('QueryRetrieveLevel')!, 'CS', uids.seriesUid ? 'SERIES' : 'STUDY');
    putString(ds, keywordToTag('StudyInstanceUID')!, 'UI', uids.studyUid);
    if (uids.seriesUid) putString(ds, keywordToTag('SeriesInstanceUID')!, 'UI', uids.seriesUid);
    return cMove(conn, cls, destination, writeDataset(ds, ts), { onProgress });
  });
}
