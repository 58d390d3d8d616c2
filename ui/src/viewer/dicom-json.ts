// DICOM JSON (PS3.18 F.2) attribute access by tag (8 hex digits, upper case). No DOM, no
// Cornerstone: unit-tested under Node.

/** One attribute of a DICOM JSON data set (PS3.18 F.2). */
export interface DicomJsonValue {
  vr: string;
  Value?: unknown[];
  BulkDataURI?: string;
  InlineBinary?: string;
}
export type DicomJson = Record<string, DicomJsonValue>;

export function str(ds: DicomJson, tag: string): string {
  const v = ds[tag]?.Value?.[0];
  if (v === undefined || v === null) return '';
  if (typeof v === 'object' && 'Alphabetic' in (v as object)) return String((v as { Alphabetic?: string }).Alphabetic ?? '');
  return String(v);
}

export function num(ds: DicomJson, tag: string): number | undefined {
  const v = ds[tag]?.Value?.[0];
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

export function nums(ds: DicomJson, tag: string): number[] | undefined {
  const vs = ds[tag]?.Value;
  if (!vs?.length) return undefined;
  const out = vs.map((v) => Number(v));
  return out.every(Number.isFinite) ? out : undefined;
}

export const TAG = {
  StudyDate: '00080020',
  Modality: '00080060',
  StudyDescription: '00081030',
  SeriesDescription: '0008103E',
  PatientName: '00100010',
  PatientID: '00100020',
  SliceThickness: '00180050',
  StudyInstanceUID: '0020000D',
  SeriesInstanceUID: '0020000E',
  SeriesNumber: '00200011',
  InstanceNumber: '00200013',
  ImagePositionPatient: '00200032',
  ImageOrientationPatient: '00200037',
  FrameOfReferenceUID: '00200052',
  SliceLocation: '00201041',
  NumberOfSeriesRelatedInstances: '00201209',
  NumberOfFrames: '00280008',
  SOPInstanceUID: '00080018',
  SeriesDate: '00080021',
  SeriesTime: '00080031',
  PixelSpacing: '00280030',
  ImagerPixelSpacing: '00181164',
} as const;

/** A DA value as YYYY-MM-DD (other text unchanged). */
export function formatDate(da: string): string {
  return /^\d{8}$/.test(da) ? `${da.slice(0, 4)}-${da.slice(4, 6)}-${da.slice(6)}` : da;
}
