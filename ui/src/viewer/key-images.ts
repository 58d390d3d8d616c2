// Key images in the viewer: the marked images of a study stored as a Key Object Selection
// document (key-object.ts) with STOW-RS, and the key images of the study's KOS read back
// as image ids of the series already listed. Loaded on demand with dcmjs.
import { wadors } from '@cornerstonejs/dicom-image-loader';
import dcmjs from 'dcmjs';
import { num, str, TAG, type DicomJson } from '../dicom-json.js';
import type { DicomWebClient } from '../dicomweb.js';
import { buildKeyObject, readKeyObject, type KeyImageRef, type KeyObject } from './key-object.js';
import { loadDisplaySet, type DisplaySet } from './loader.js';
import { part10 } from './measurements.js';

const { DicomMetaDictionary } = dcmjs.data;

const instanceJson = (imageId: string) => wadors.metaDataManager.get(imageId) as unknown as DicomJson | undefined;
const frameOf = (imageId: string) => Number(/\/frames\/(\d+)$/.exec(imageId)?.[1] ?? 1);

export class KeyImageError extends Error {
  override readonly name = 'KeyImageError';
}

/** Stores the marked images of one study as a KOS. Resolves with its SOP Instance UID. */
export async function saveKeyImages(client: DicomWebClient, studyUid: string, imageIds: string[], description: string): Promise<string> {
  const refs: KeyImageRef[] = [];
  let first: DicomJson | undefined;
  for (const id of imageIds) {
    const inst = instanceJson(id);
    if (!inst) continue;
    first ??= inst;
    const multiframe = (num(inst, TAG.NumberOfFrames) ?? 1) > 1;
    refs.push({
      sopClassUid: str(inst, TAG.SOPClassUID),
      sopInstanceUid: str(inst, TAG.SOPInstanceUID),
      seriesUid: str(inst, TAG.SeriesInstanceUID),
      ...(multiframe ? { frame: frameOf(id) } : {}),
    });
  }
  if (!first || !refs.length) throw new KeyImageError('no key images marked in this study');
  const natural = DicomMetaDictionary.naturalizeDataset(first) as Record<string, unknown>;
  const study: { StudyInstanceUID: string; [k: string]: unknown } = { StudyInstanceUID: studyUid };
  for (const k of [
    'PatientName',
    'PatientID',
    'PatientBirthDate',
    'PatientSex',
    'StudyDate',
    'StudyTime',
    'StudyID',
    'AccessionNumber',
    'ReferringPhysicianName',
  ])
    if (natural[k] !== undefined) study[k] = natural[k];
  const existing = await client.seriesOfModality(studyUid, 'KO').catch(() => []);
  const seriesNumber = Math.max(700, ...existing.map((s) => (num(s, TAG.SeriesNumber) ?? 0) + 1));
  const sopInstanceUid = DicomMetaDictionary.uid();
  const kos = buildKeyObject(study, { seriesUid: DicomMetaDictionary.uid(), sopInstanceUid, seriesNumber, now: new Date() }, refs, description);
  try {
    await client.store(studyUid, part10(kos));
  } catch (e) {
    throw new KeyImageError(`storing the key images failed: ${(e as Error).message}`);
  }
  return sopInstanceUid;
}

/** The study's key object selections (rejection notes left out), newest first. */
export async function keyObjectsOf(client: DicomWebClient, studyUid: string): Promise<KeyObject[]> {
  const out: KeyObject[] = [];
  for (const s of await client.seriesOfModality(studyUid, 'KO')) {
    for (const json of await client.freshSeriesMetadata(studyUid, str(s, TAG.SeriesInstanceUID))) {
      const k = readKeyObject(DicomMetaDictionary.naturalizeDataset(json));
      if (k) out.push(k);
    }
  }
  return out.sort((a, b) => b.created.localeCompare(a.created));
}

/**
 * The image ids of key images among the study's display sets (their metadata loaded
 * first), in the KOS's order; `missing` counts references to images not in them.
 */
export async function keyImageIds(objects: KeyObject[], sets: DisplaySet[]): Promise<{ imageIds: string[]; missing: number }> {
  const wanted = objects.flatMap((o) => o.images);
  const series = new Set(wanted.map((r) => r.seriesUid));
  // A reference without its series (evidence missing) may be in any of them.
  const load = sets.filter((d) => series.has(d.seriesUid) || series.has(''));
  await Promise.all(load.map((d) => loadDisplaySet(d)));
  const idOf = new Map<string, string>();
  for (const d of load)
    for (const id of d.imageIds ?? []) {
      const inst = instanceJson(id);
      if (inst) idOf.set(`${str(inst, TAG.SOPInstanceUID)}/${frameOf(id)}`, id);
    }
  const imageIds: string[] = [];
  let missing = 0;
  for (const r of wanted) {
    const id = idOf.get(`${r.sopInstanceUid}/${r.frame ?? 1}`);
    if (!id) missing++;
    else if (!imageIds.includes(id)) imageIds.push(id);
  }
  return { imageIds, missing };
}
