// DICOMweb reads of our server (QIDO-RS, WADO-RS metadata), with the web app's session
// cookie. One client per archive: /dicomweb (Main Server) or /workstation/dicomweb.

/** One attribute of a DICOM JSON data set (PS3.18 F.2). */
export interface DicomJsonValue {
  vr: string;
  Value?: unknown[];
  BulkDataURI?: string;
  InlineBinary?: string;
}
export type DicomJson = Record<string, DicomJsonValue>;

/** A DICOMweb request that failed: the HTTP status and the server's reason. */
export class DicomWebError extends Error {
  constructor(
    readonly status: number,
    readonly url: string,
    detail: string,
  ) {
    super(`${status} ${detail} (${url})`);
  }
}

export type ArchiveName = 'main' | 'workstation';

export function archiveRoot(archive: ArchiveName): string {
  return archive === 'workstation' ? '/workstation/dicomweb' : '/dicomweb';
}

export class DicomWebClient {
  constructor(readonly root: string) {}

  async series(studyUid: string): Promise<DicomJson[]> {
    return this.getJson(`${this.root}/studies/${studyUid}/series?includefield=all`);
  }

  async seriesMetadata(studyUid: string, seriesUid: string): Promise<DicomJson[]> {
    return this.getJson(`${this.root}/studies/${studyUid}/series/${seriesUid}/metadata`);
  }

  thumbnailUrl(studyUid: string, seriesUid: string): string {
    return `${this.root}/studies/${studyUid}/series/${seriesUid}/thumbnail`;
  }

  /** The dicom-image-loader's id of one frame (1-based), fetched from the frames route. */
  frameImageId(studyUid: string, seriesUid: string, sopUid: string, frame: number): string {
    return `wadors:${location.origin}${this.root}/studies/${studyUid}/series/${seriesUid}/instances/${sopUid}/frames/${frame}`;
  }

  private async getJson(url: string): Promise<DicomJson[]> {
    const res = await fetch(url, { credentials: 'same-origin', headers: { accept: 'application/dicom+json' } });
    if (res.status === 204) return [];
    if (!res.ok) {
      const body = await res.json().catch(() => undefined);
      const detail = (body as { detail?: string } | undefined)?.detail ?? res.statusText;
      throw new DicomWebError(res.status, url, detail);
    }
    return (await res.json()) as DicomJson[];
  }
}

// Attribute access by tag (8 hex digits, upper case as PS3.18 writes them).

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
