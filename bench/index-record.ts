// An index row as ingest makes it for one slice of bench/ingest's synthetic CT, with the
// identifiers a bench gives (bench/index-commit.ts, bench/micro-ingest.ts).
import type { InstanceRecord } from '../src/archive/index-types.js';

/** The DICOM JSON of bench/ingest's CT header is 2,266 characters: text of that length. */
export const CT_JSON_TEXT = JSON.stringify({ x: 'y'.repeat(2250) });

export function ctRecord(ids: {
  sopInstanceUid: string;
  seriesInstanceUid: string;
  studyInstanceUid: string;
  fileKey: string;
  instanceNumber: number;
}): InstanceRecord {
  return {
    ...ids,
    sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
    patientId: 'P1',
    patientName: 'DOE^J',
    patientBirthDate: null,
    patientSex: 'F',
    studyDate: '20260101',
    studyTime: null,
    accessionNumber: 'A1',
    studyId: null,
    studyDescription: 'CT',
    referringPhysicianName: null,
    modality: 'CT',
    seriesNumber: 1,
    seriesDescription: null,
    bodyPartExamined: null,
    transferSyntaxUid: '1.2.840.10008.1.2.1',
    fileSize: 525_000,
    fileCrc32: 1,
    receivedAt: new Date().toISOString(),
    callingAeTitle: 'BENCH',
    calledAeTitle: 'PACS',
    peerAddress: null,
    json: CT_JSON_TEXT,
  };
}
