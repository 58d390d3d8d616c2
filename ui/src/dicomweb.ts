// DICOMweb from the browser (PS3.18): QIDO-RS searches, STOW-RS stores; DICOM JSON helpers.
import { ApiError, type Problem } from './api.js';

export interface DicomAttr { vr: string; Value?: unknown[] }
export type DicomJson = Record<string, DicomAttr>;

export const TAG = {
  PatientName: '00100010', PatientID: '00100020', PatientBirthDate: '00100030', StudyDate: '00080020', StudyTime: '00080030',
  AccessionNumber: '00080050', StudyDescription: '00081030', ModalitiesInStudy: '00080061', StudyInstanceUID: '0020000D',
  NumberOfStudyRelatedSeries: '00201206', NumberOfStudyRelatedInstances: '00201208', SeriesInstanceUID: '0020000E',
  Modality: '00080060', SeriesNumber: '00200011', SeriesDescription: '0008103E', NumberOfSeriesRelatedInstances: '00201209',
  SOPInstanceUID: '00080018', InstanceNumber: '00200013', FailedSOPSequence: '00081198', ReferencedSOPSequence: '00081199',
  ReferencedSOPInstanceUID: '00081155', FailureReason: '00081197',
} as const;

/** An attribute's values as text (person names by their alphabetic group), joined with '\'. */
export function text(obj: DicomJson, tag: string): string {
  const v = obj[tag]?.Value;
  if (!v) return '';
  return v.map((x) => (x && typeof x === 'object' ? String((x as { Alphabetic?: string }).Alphabetic ?? '') : String(x ?? ''))).join('\\');
}

export function num(obj: DicomJson, tag: string): number | undefined {
  const v = obj[tag]?.Value?.[0];
  return typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : undefined;
}

async function problemOf(res: Response): Promise<ApiError> {
  const body = await res.json().catch(() => undefined) as Problem | undefined;
  return new ApiError(body?.detail ? body : { title: res.statusText, status: res.status, detail: `${res.status} ${res.statusText}` });
}

export async function qido(path: string, params: Record<string, string | number | undefined> = {}): Promise<DicomJson[]> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.append(k, String(v));
  const res = await fetch(`/dicomweb/${path}${q.size ? `?${q}` : ''}`, {
    credentials: 'same-origin', headers: { accept: 'application/dicom+json', 'x-requested-with': 'fetch' },
  });
  if (res.status === 204) return [];
  if (!res.ok) throw await problemOf(res);
  return (await res.json()) as DicomJson[];
}

/**
 * Every result of a search, page by page: the server answers at most its own limit per
 * request (limits.query.qidoDefaultLimit without `limit`, with a Warning), so a series of
 * 3,000 instances takes three requests.
 */
export async function qidoAll(path: string, params: Record<string, string | number | undefined> = {}, pageSize = 1000): Promise<DicomJson[]> {
  const all: DicomJson[] = [];
  for (;;) {
    const page = await qido(path, { ...params, limit: pageSize, offset: all.length });
    all.push(...page);
    if (page.length < pageSize) return all;
  }
}

export interface StowResult {
  stored: string[];
  failed: { uid: string; reason: string }[];
}

/** STOW-RS of Part 10 files in one multipart/related request. */
export async function stow(files: readonly Blob[]): Promise<StowResult> {
  const boundary = `pacs-${crypto.randomUUID()}`;
  const parts: BlobPart[] = [];
  for (const f of files) parts.push(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`, f, '\r\n');
  parts.push(`--${boundary}--\r\n`);
  const res = await fetch('/dicomweb/studies', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`, accept: 'application/dicom+json', 'x-requested-with': 'fetch' },
    body: new Blob(parts),
  });
  const body = (await res.json().catch(() => undefined)) as DicomJson | Problem | undefined;
  if (!body || !(TAG.ReferencedSOPSequence in body || TAG.FailedSOPSequence in body)) {
    if (!res.ok) throw new ApiError(body && 'detail' in body ? (body as Problem) : { title: res.statusText, status: res.status, detail: `STOW-RS: ${res.status} ${res.statusText}` });
    return { stored: [], failed: [] };
  }
  const items = (tag: string) => (body[tag]?.Value ?? []) as DicomJson[];
  return {
    stored: items(TAG.ReferencedSOPSequence).map((i) => text(i, TAG.ReferencedSOPInstanceUID)),
    failed: items(TAG.FailedSOPSequence).map((i) => ({ uid: text(i, TAG.ReferencedSOPInstanceUID), reason: failureReason(num(i, TAG.FailureReason)) })),
  };
}

const REASONS: Record<number, string> = {
  0x0110: 'processing failure', 0x0122: 'SOP class not supported', 0xa700: 'out of resources', 0xa900: 'data set does not match SOP class',
  0xc000: 'cannot understand', 0xc122: 'transfer syntax not supported', 0x0111: 'duplicate SOP instance',
};

function failureReason(n: number | undefined): string {
  if (n === undefined) return 'failed';
  return `${REASONS[n] ?? 'failed'} (0x${n.toString(16).padStart(4, '0')})`;
}
