// Shapes of the workflow REST API (src/web/workflow-api.ts): worklist entries, performed
// procedure steps and storage commitment transactions, as the web app reads them.
// Import-free like the rest of src/api-types (the web app compiles it).
import type { DicomJson } from './web.js';

export const SPS_STATUSES = ['SCHEDULED', 'ARRIVED', 'READY', 'STARTED', 'DEPARTED', 'COMPLETED', 'DISCONTINUED', 'CANCELED'] as const;
export type SpsStatus = (typeof SPS_STATUSES)[number];

/** GET /api/worklist, POST /api/worklist (the body: these fields without spsId/createdAt/updatedAt, most optional). */
export interface WorklistEntry {
  patientId: string;
  patientName: string;
  patientBirthDate?: string;
  patientSex?: 'M' | 'F' | 'O';
  accessionNumber?: string;
  requestedProcedureId?: string;
  requestedProcedureDescription?: string;
  referringPhysicianName?: string;
  studyInstanceUid: string;
  spsId: string;
  modality: string;
  stationAeTitle?: string;
  stationName?: string;
  startDate: string;
  startTime?: string;
  performingPhysicianName?: string;
  spsDescription?: string;
  location?: string;
  status: SpsStatus;
  createdAt: string;
  updatedAt: string;
}

export const MPPS_STATUSES = ['IN PROGRESS', 'COMPLETED', 'DISCONTINUED'] as const;
export type MppsStatus = (typeof MPPS_STATUSES)[number];

/** GET /api/mpps. */
export interface MppsRecord {
  sopInstanceUid: string;
  status: MppsStatus;
  callingAeTitle: string;
  spsIds: string[];
  json: DicomJson;
  createdAt: string;
  updatedAt: string;
}

export interface CommitmentRef {
  sopClassUid: string;
  sopInstanceUid: string;
}

export interface FailedRef extends CommitmentRef {
  /** Failure Reason (0008,1197), PS3.4 J.3.2.1.1.1: a status code of src/dicom/status.ts. */
  reason: number;
}

export interface CommitmentResult {
  success: CommitmentRef[];
  failed: FailedRef[];
}

/** pending: report not delivered yet; done: the requestor acknowledged the report. */
export type CommitmentState = 'pending' | 'done';

/** GET /api/commitments. */
export interface CommitmentRecord {
  transactionUid: string;
  callingAeTitle: string;
  calledAeTitle: string;
  state: CommitmentState;
  request: CommitmentRef[];
  result?: CommitmentResult;
  attempts: number;
  lastError?: string;
  createdAt: string;
  updatedAt: string;
  /** The node sending the report now (several nodes on one database), while its claim lasts. */
  claimedBy?: string;
}
