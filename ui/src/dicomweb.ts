// DICOMweb (PS3.18) of our server from the browser, with the web app's session cookie:
// QIDO-RS searches, WADO-RS metadata and frame ids, STOW-RS stores. One client per
// archive: /dicomweb (Main Server) or /workstation/dicomweb. Failures are ApiErrors, as
// the REST API's are, carrying the server's problem details and the URL.
import { statusHex, statusInfo } from '../../src/dicom/status.js';
import { ApiError, problemOf, type DicomWebArchive } from './api.js';
import { num, TAG, text, type DicomJson } from './dicom-json.js';

export type { DicomJson } from './dicom-json.js';

export function archiveRoot(archive: DicomWebArchive): string {
  return archive === 'workstation' ? '/workstation/dicomweb' : '/dicomweb';
}

export type QueryParams = Record<string, string | number | undefined>;

/** What a STOW-RS stored, and what it refused with the reason. */
export interface StowResult {
  stored: string[];
  failed: { uid: string; reason: string }[];
}

const JSON_HEADERS = { accept: 'application/dicom+json', 'x-requested-with': 'fetch' };

export class DicomWebClient {
  constructor(readonly root: string) {}

  /** Answers by URL: each resource is asked for once (the page asks early, the viewer uses the answer). */
  private readonly answers = new Map<string, Promise<DicomJson[]>>();

  /** One QIDO-RS search (`studies`, `studies/{uid}/series`, ...): at most the server's page of results. */
  qido(path: string, params: QueryParams = {}): Promise<DicomJson[]> {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.append(k, String(v));
    return this.getJson(`${this.root}/${path}${q.size ? `?${q}` : ''}`);
  }

  /**
   * Every result of a search, page by page: the server answers at most its own limit per
   * request (limits.query.qidoDefaultLimit without `limit`, with a Warning), so a series of
   * 3,000 instances takes three requests.
   */
  async qidoAll(path: string, params: QueryParams = {}, pageSize = 1000): Promise<DicomJson[]> {
    const all: DicomJson[] = [];
    for (;;) {
      const page = await this.qido(path, { ...params, limit: pageSize, offset: all.length });
      all.push(...page);
      if (page.length < pageSize) return all;
    }
  }

  series(studyUid: string): Promise<DicomJson[]> {
    return this.once(`${this.root}/studies/${studyUid}/series?includefield=all`);
  }

  seriesMetadata(studyUid: string, seriesUid: string): Promise<DicomJson[]> {
    return this.once(`${this.root}/studies/${studyUid}/series/${seriesUid}/metadata`);
  }

  /** The study's series of one modality (QIDO-RS), asked afresh each time (reports are added while open). */
  seriesOfModality(studyUid: string, modality: string): Promise<DicomJson[]> {
    return this.qido(`studies/${studyUid}/series`, { Modality: modality, includefield: 'all' });
  }

  /** One resource's metadata (`studies/{st}/series/{se}/instances/{sop}`), not cached. */
  metadata(path: string): Promise<DicomJson[]> {
    return this.getJson(`${this.root}/${path}/metadata`);
  }

  /** Series metadata without the once-cache (a report series read after a save). */
  freshSeriesMetadata(studyUid: string, seriesUid: string): Promise<DicomJson[]> {
    return this.getJson(`${this.root}/studies/${studyUid}/series/${seriesUid}/metadata`);
  }

  /**
   * STOW-RS of Part 10 files in one multipart/related request, into `studyUid` when given.
   * Resolves with what was stored and what was refused (a partial success, HTTP 202, too);
   * throws when the server answered without saying which (a problem, or no response body).
   */
  async stow(files: readonly BlobPart[], studyUid?: string): Promise<StowResult> {
    const url = `${this.root}/studies${studyUid ? `/${studyUid}` : ''}`;
    const boundary = `pacs-${crypto.randomUUID()}`;
    const parts: BlobPart[] = [];
    for (const f of files) parts.push(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`, f, '\r\n');
    parts.push(`--${boundary}--\r\n`);
    const res = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { ...JSON_HEADERS, 'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}` },
      body: new Blob(parts),
    });
    const body = (await res.json().catch(() => undefined)) as DicomJson | undefined;
    if (!body || !(TAG.ReferencedSOPSequence in body || TAG.FailedSOPSequence in body)) {
      if (!res.ok) throw problemOf(res, body, url);
      return { stored: [], failed: [] };
    }
    const items = (tag: string) => (body[tag]?.Value ?? []) as DicomJson[];
    return {
      stored: items(TAG.ReferencedSOPSequence).map((i) => text(i, TAG.ReferencedSOPInstanceUID)),
      failed: items(TAG.FailedSOPSequence).map((i) => ({ uid: text(i, TAG.ReferencedSOPInstanceUID), reason: failureReason(i) })),
    };
  }

  /** STOW-RS of one Part 10 file into the study; throws unless it was stored. */
  async store(studyUid: string, part10: ArrayBuffer): Promise<void> {
    const r = await this.stow([part10], studyUid);
    if (r.failed.length > 0 || r.stored.length !== 1) {
      const url = `${this.root}/studies/${studyUid}`;
      throw new ApiError({ type: 'about:blank', title: 'Store failed', status: 409, detail: `store failed: ${r.failed[0]?.reason ?? 'nothing stored'}` }, url);
    }
  }

  /** One instance as a Part 10 file (WADO-URI), in `transferSyntax` when given (the server transcodes). */
  async instanceFile(studyUid: string, seriesUid: string, sopUid: string, transferSyntax?: string): Promise<ArrayBuffer> {
    const q = new URLSearchParams({ requestType: 'WADO', studyUID: studyUid, seriesUID: seriesUid, objectUID: sopUid, contentType: 'application/dicom' });
    if (transferSyntax) q.set('transferSyntax', transferSyntax);
    const url = `${this.root}/wado?${q}`;
    const res = await fetch(url, { credentials: 'same-origin', headers: { accept: 'application/dicom', 'x-requested-with': 'fetch' } });
    if (!res.ok) throw problemOf(res, await res.json().catch(() => undefined), url);
    return res.arrayBuffer();
  }

  thumbnailUrl(studyUid: string, seriesUid: string): string {
    return `${this.root}/studies/${studyUid}/series/${seriesUid}/thumbnail`;
  }

  /** The series' Pixel Data resource: the frames of the instances named in its query, in one multipart response. */
  pixelDataUrl(studyUid: string, seriesUid: string): string {
    return `${location.origin}${this.root}/studies/${studyUid}/series/${seriesUid}/pixeldata`;
  }

  /** The dicom-image-loader's id of one frame (1-based), fetched from the frames route. */
  frameImageId(studyUid: string, seriesUid: string, sopUid: string, frame: number): string {
    return `wadors:${location.origin}${this.root}/studies/${studyUid}/series/${seriesUid}/instances/${sopUid}/frames/${frame}`;
  }

  private once(url: string): Promise<DicomJson[]> {
    let p = this.answers.get(url);
    if (!p) {
      p = this.getJson(url);
      p.catch(() => this.answers.delete(url)); // a failure is asked again next time
      this.answers.set(url, p);
    }
    return p;
  }

  private async getJson(url: string): Promise<DicomJson[]> {
    const res = await fetch(url, { credentials: 'same-origin', headers: JSON_HEADERS });
    if (res.status === 204) return [];
    if (!res.ok) throw problemOf(res, await res.json().catch(() => undefined), url);
    return (await res.json()) as DicomJson[];
  }
}

/** The viewer URL of a study in the Workstation Server's archive. */
export const workstationViewerUrl = (studyUid: string): string => `/viewer?StudyInstanceUIDs=${encodeURIComponent(studyUid)}&archive=workstation`;

/** The Main Server's archive: what the app's study pages search and upload to. */
export const mainArchive = new DicomWebClient(archiveRoot('main'));

/** A FailedSOPSequence item's reason: its comment when the server gave one, else the code's meaning. */
function failureReason(item: DicomJson): string {
  const code = num(item, TAG.FailureReason);
  const comment = text(item, '00000902');
  const meaning = code === undefined ? 'failed' : `${statusInfo(code)?.meaning ?? 'failed'} (${statusHex(code)})`;
  return comment ? `${meaning}: ${comment}` : meaning;
}
