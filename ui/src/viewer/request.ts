// The viewer's query string: /viewer?StudyInstanceUIDs=uid1,uid2[&archive=workstation][&back=#/studies?...].
// No DOM, no Cornerstone.
import type { DicomWebArchive } from '../api.js';

/** Which archive the viewer reads: the Main Server's (/dicomweb) or the Workstation Server's. */
export type ArchiveName = DicomWebArchive;

const UID = /^[0-9]+(\.[0-9]+)*$/;

export interface ViewerRequest {
  studyUids: string[];
  archive: ArchiveName;
}

/** The query string's studies and archive, or the reason it cannot be opened. */
export function parseRequest(search: string): ViewerRequest | { error: string } {
  const q = new URLSearchParams(search);
  const uids = q
    .getAll('StudyInstanceUIDs')
    .flatMap((v) => v.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  if (!uids.length) return { error: 'no study given: open /viewer?StudyInstanceUIDs=uid1,uid2' };
  const bad = uids.find((u) => u.length > 64 || !UID.test(u));
  if (bad) return { error: `not a study instance UID: "${bad.slice(0, 80)}" (digits and dots, at most 64 characters)` };
  const archive = q.get('archive') ?? 'main';
  if (archive !== 'main' && archive !== 'workstation') return { error: `unknown archive "${archive}": main or workstation` };
  return { studyUids: [...new Set(uids)], archive };
}

/**
 * Where the viewer's "Study list" link goes: the web app's address given as `back` (the
 * list and search the study was opened from) when it is one of the app's own pages, else
 * the Studies page.
 */
export function backHref(search: string): string {
  const back = new URLSearchParams(search).get('back') ?? '';
  return /^#\/[\w-]+(\?[^#\s]*)?$/.test(back) && back.length <= 2000 ? `/${back}` : '/#/studies';
}
