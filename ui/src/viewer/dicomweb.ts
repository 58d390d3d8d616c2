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
