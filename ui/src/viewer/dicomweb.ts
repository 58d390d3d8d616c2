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
