// DICOMweb reads of our server (QIDO-RS, WADO-RS metadata), with the web app's session
// cookie. One client per archive: /dicomweb (Main Server) or /workstation/dicomweb.

import type { DicomJson } from './dicom-json.js';
import type { ArchiveName } from './request.js';

export type { DicomJson } from './dicom-json.js';

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


/** The failure comment of a STOW-RS response (FailedSOPSequence), or the problem's detail. */
function stowReason(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { detail?: string; '00081198'?: { Value?: Array<Record<string, { Value?: unknown[] }>> } };
    if (body.detail) return body.detail;
    const failed = body['00081198']?.Value?.[0];
    const comment = failed?.['00000902']?.Value?.[0] ?? failed?.['00081197']?.Value?.[0];
    return comment === undefined ? undefined : `store failed: ${String(comment)}`;
  } catch {
    return text.slice(0, 200) || undefined;
  }
}

export function archiveRoot(archive: ArchiveName): string {
  return archive === 'workstation' ? '/workstation/dicomweb' : '/dicomweb';
}

export class DicomWebClient {
  constructor(readonly root: string) {}

  /** Answers by URL: each resource is asked for once (the page asks early, the viewer uses the answer). */
  private readonly answers = new Map<string, Promise<DicomJson[]>>();

  series(studyUid: string): Promise<DicomJson[]> {
    return this.once(`${this.root}/studies/${studyUid}/series?includefield=all`);
  }

  seriesMetadata(studyUid: string, seriesUid: string): Promise<DicomJson[]> {
    return this.once(`${this.root}/studies/${studyUid}/series/${seriesUid}/metadata`);
  }

  /** The study's series of one modality (QIDO-RS), asked afresh each time (reports are added while open). */
  seriesOfModality(studyUid: string, modality: string): Promise<DicomJson[]> {
    return this.getJson(`${this.root}/studies/${studyUid}/series?Modality=${encodeURIComponent(modality)}&includefield=all`);
  }

  /** Series metadata without the once-cache (a report series read after a save). */
  freshSeriesMetadata(studyUid: string, seriesUid: string): Promise<DicomJson[]> {
    return this.getJson(`${this.root}/studies/${studyUid}/series/${seriesUid}/metadata`);
  }

  /** STOW-RS of one Part 10 file into the study. */
  async store(studyUid: string, part10: ArrayBuffer): Promise<void> {
    const url = `${this.root}/studies/${studyUid}`;
    const boundary = `pacs-viewer-${Math.random().toString(36).slice(2)}`;
    const body = new Blob([`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`, part10, `\r\n--${boundary}--\r\n`]);
    const res = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`, accept: 'application/dicom+json' },
      body,
    });
    if (res.status !== 200) {
      const text = await res.text().catch(() => '');
      throw new DicomWebError(res.status, url, stowReason(text) ?? res.statusText);
    }
  }

  thumbnailUrl(studyUid: string, seriesUid: string): string {
    return `${this.root}/studies/${studyUid}/series/${seriesUid}/thumbnail`;
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
