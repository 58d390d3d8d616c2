// Saving the viewer's measurements as a Comprehensive SR (one new SR series per study,
// stored with STOW-RS into the archive the viewer reads) and restoring the newest report
// of a study onto the images it references when the study is opened.
import { utilities as csUtils, type Types } from '@cornerstonejs/core';
import { wadors } from '@cornerstonejs/dicom-image-loader';
import {
  annotation as annotationApi,
  AngleTool,
  ArrowAnnotateTool,
  BidirectionalTool,
  CobbAngleTool,
  EllipticalROITool,
  LengthTool,
  PlanarFreehandROITool,
  ProbeTool,
  LabelTool,
  RectangleROITool,
  type Types as ToolTypes,
} from '@cornerstonejs/tools';
import { PolylineTool } from './reading-tools.js';
import { addToolAnnotation } from './annotation-add.js';
import dcmjs from 'dcmjs';
import { num, str, TAG, type DicomJson } from '../dicom-json.js';
import type { DicomWebClient } from '../dicomweb.js';
import { loadDisplaySet, type DisplaySet } from './loader.js';
import {
  buildMeasurementReport,
  newestFirst,
  readMeasurementReport,
  type GraphicType,
  type MeasuredValue,
  type SrMeasurement,
  type StudyAttributes,
} from './measurement-sr.js';

const { DicomMetaDictionary, DicomDict } = dcmjs.data;

/** The tools whose annotations go into the report, with the SCOORD type of their handles. */
const SAVED: Record<string, GraphicType> = {
  [LengthTool.toolName]: 'POLYLINE',
  [AngleTool.toolName]: 'POLYLINE',
  [CobbAngleTool.toolName]: 'POLYLINE',
  [BidirectionalTool.toolName]: 'POLYLINE',
  [ArrowAnnotateTool.toolName]: 'POLYLINE',
  [RectangleROITool.toolName]: 'POLYLINE',
  [EllipticalROITool.toolName]: 'ELLIPSE',
  [ProbeTool.toolName]: 'POINT',
  // The contour, closed by repeating its first point (PS3.3 C.18.6.1.2).
  [PlanarFreehandROITool.toolName]: 'POLYLINE',
  // Free text: its label at one point; the open polyline by its vertices (reading-tools.ts).
  [LabelTool.toolName]: 'POINT',
  [PolylineTool.toolName]: 'POLYLINE',
};

type Annotation = ToolTypes.Annotation & {
  metadata: { toolName: string; referencedImageId?: string };
  data: {
    text?: string;
    handles: { points: Types.Point3[] };
    contour?: { polyline: Types.Point3[]; closed: boolean };
    cachedStats?: Record<string, Record<string, unknown>>;
  };
};

/** Thrown when there is nothing to save or the store failed: the message is for the user. */
export class MeasurementError extends Error {
  override readonly name = 'MeasurementError';
}

const frameOf = (imageId: string) => Number(/\/frames\/(\d+)$/.exec(imageId)?.[1] ?? 1);
const instanceJson = (imageId: string) => wadors.metaDataManager.get(imageId) as DicomJson | undefined;

function valuesOf(a: Annotation): MeasuredValue[] {
  const stats = Object.values(a.data.cachedStats ?? {})[0] as Record<string, unknown> | undefined;
  if (!stats) return [];
  const out: MeasuredValue[] = [];
  const n = (k: string) => (typeof stats[k] === 'number' ? stats[k] : undefined);
  const calibrated = (u: unknown) => typeof u === 'string' && u.startsWith('mm');
  const lengthUnit = calibrated(stats.unit) ? 'mm' : '1';
  const length = n('length');
  const width = n('width'); // bidirectional: long and short axis
  if (length !== undefined) out.push({ name: width === undefined ? 'Length' : 'LongAxis', value: length, unit: lengthUnit });
  if (width !== undefined) out.push({ name: 'ShortAxis', value: width, unit: lengthUnit });
  const angle = n('angle');
  if (angle !== undefined) out.push({ name: 'Angle', value: angle, unit: 'deg' });
  const area = n('area');
  if (area !== undefined) out.push({ name: 'Area', value: area, unit: calibrated(stats.areaUnit) ? 'mm2' : '1' });
  const unit = stats.modalityUnit === 'HU' ? "[hnsf'U]" : '1';
  for (const [k, name] of [
    ['mean', 'Mean'],
    ['stdDev', 'StandardDeviation'],
    ['min', 'Minimum'],
    ['max', 'Maximum'],
  ] as const) {
    const v = n(k);
    if (v !== undefined) out.push({ name, value: v, unit });
  }
  return out;
}

/**
 * DICOM's ELLIPSE lists the major axis first; Cornerstone's handles are "bottom", "top",
 * left, right, its "bottom" being the one on the smaller row (EllipticalROITool's drag).
 */
function ellipseForSr(p: Array<[number, number]>): Array<[number, number]> {
  const d = (a: [number, number], b: [number, number]) => Math.hypot(a[0] - b[0], a[1] - b[1]);
  return d(p[0], p[1]) >= d(p[2], p[3]) ? p : [p[2], p[3], p[0], p[1]];
}

function ellipseForTool(p: Array<[number, number]>): Array<[number, number]> {
  // The pair running more along the rows (image y) is bottom/top.
  const vertical = (a: [number, number], b: [number, number]) => Math.abs(a[1] - b[1]) >= Math.abs(a[0] - b[0]);
  const [v, h] = vertical(p[0], p[1])
    ? [
        [p[0], p[1]],
        [p[2], p[3]],
      ]
    : [
        [p[2], p[3]],
        [p[0], p[1]],
      ];
  const [bottom, top] = v[0][1] <= v[1][1] ? [v[0], v[1]] : [v[1], v[0]];
  const [left, right] = h[0][0] <= h[1][0] ? [h[0], h[1]] : [h[1], h[0]];
  return [bottom, top, left, right];
}

function toMeasurement(a: Annotation): SrMeasurement | undefined {
  const imageId = a.metadata.referencedImageId;
  const type = SAVED[a.metadata.toolName];
  const inst = imageId ? instanceJson(imageId) : undefined;
  const contour = a.data.contour;
  const polyline = a.metadata.toolName === PolylineTool.toolName;
  const world =
    a.metadata.toolName === LabelTool.toolName
      ? a.data.handles.points.slice(0, 1)
      : contour && !polyline
        ? [...contour.polyline, ...(contour.closed && contour.polyline.length ? [contour.polyline[0]] : [])]
        : a.data.handles.points;
  if (!imageId || !type || !inst || !world.length) return undefined;
  let points = world.map((w) => csUtils.worldToImageCoords(imageId, w) as [number, number]);
  if (type === 'ELLIPSE') points = ellipseForSr(points);
  const multiframe = (num(inst, TAG.NumberOfFrames) ?? 1) > 1;
  const label = a.data.text || a.data.label;
  return {
    toolName: a.metadata.toolName,
    trackingUid: DicomMetaDictionary.uid(),
    image: {
      sopClassUid: str(inst, '00080016'),
      sopInstanceUid: str(inst, TAG.SOPInstanceUID),
      seriesUid: str(inst, TAG.SeriesInstanceUID),
      ...(multiframe ? { frame: frameOf(imageId) } : {}),
    },
    graphicType: type,
    points,
    ...(label ? { label } : {}),
    values: valuesOf(a),
  };
}

function studyAttributes(inst: DicomJson): StudyAttributes {
  const n = DicomMetaDictionary.naturalizeDataset(inst) as Record<string, unknown>;
  const pick = (k: string) => (n[k] === undefined ? undefined : n[k]);
  return {
    StudyInstanceUID: str(inst, TAG.StudyInstanceUID),
    PatientName: pick('PatientName'),
    PatientID: pick('PatientID') as string | undefined,
    PatientBirthDate: pick('PatientBirthDate') as string | undefined,
    PatientSex: pick('PatientSex') as string | undefined,
    StudyDate: pick('StudyDate') as string | undefined,
    StudyTime: pick('StudyTime') as string | undefined,
    StudyID: pick('StudyID') as string | undefined,
    AccessionNumber: pick('AccessionNumber') as string | undefined,
    ReferringPhysicianName: pick('ReferringPhysicianName'),
  };
}

/** A Part 10 file (explicit VR little endian) of a naturalized data set. */
export function part10(dataset: Record<string, unknown>): ArrayBuffer {
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: dataset.SOPClassUID,
    MediaStorageSOPInstanceUID: dataset.SOPInstanceUID,
    TransferSyntaxUID: '1.2.840.10008.1.2.1',
    ImplementationClassUID: '2.25.80302813137786398554742050926734630921',
    ImplementationVersionName: 'OPENPACS_VIEWER',
  };
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = DicomMetaDictionary.denaturalizeDataset(dataset);
  return dict.write();
}

/** Which display set an image id belongs to. */
function ownerOf(sets: DisplaySet[], imageId: string): DisplaySet | undefined {
  return sets.find((d) => d.imageIds?.includes(imageId));
}

export interface SaveOptions {
  /** Only these studies (default: every study with measurements). */
  studies?: ReadonlySet<string>;
  /**
   * Save a report for each of `studies` even when it has no measurement left: a newer,
   * empty report is how a deletion of the last one is kept (the newest report wins).
   */
  allowEmpty?: boolean;
}

/** Stores the measurements of the open studies: one SR per study that has some. Resolves with the count saved. */
export async function saveMeasurements(sets: DisplaySet[], options: SaveOptions = {}): Promise<number> {
  const byStudy = new Map<string, { client: DicomWebClient; measurements: SrMeasurement[]; first: DicomJson }>();
  const wanted = (studyUid: string) => !options.studies || options.studies.has(studyUid);
  for (const a of annotationApi.state.getAllAnnotations() as Annotation[]) {
    const imageId = a.metadata.referencedImageId;
    const ds = imageId ? ownerOf(sets, imageId) : undefined;
    const m = ds && toMeasurement(a);
    if (!ds || !m || !imageId || !wanted(ds.studyUid)) continue;
    const entry = byStudy.get(ds.studyUid) ?? { client: ds.client, measurements: [], first: instanceJson(imageId)! };
    entry.measurements.push(m);
    byStudy.set(ds.studyUid, entry);
  }
  if (options.allowEmpty) {
    for (const studyUid of options.studies ?? []) {
      if (byStudy.has(studyUid)) continue;
      // The patient and study attributes come from any loaded image of the study.
      const ds = sets.find((d) => d.studyUid === studyUid && d.imageIds?.length);
      const first = ds?.imageIds && instanceJson(ds.imageIds[0]);
      if (ds && first) byStudy.set(studyUid, { client: ds.client, measurements: [], first });
    }
  }
  if (!byStudy.size) throw new MeasurementError('no measurements to save');
  let saved = 0;
  for (const [studyUid, { client, measurements, first }] of byStudy) {
    const existing = await client.seriesOfModality(studyUid, 'SR').catch(() => []);
    const seriesNumber = Math.max(900, ...existing.map((s) => (num(s, TAG.SeriesNumber) ?? 0) + 1));
    const report = buildMeasurementReport(
      studyAttributes(first),
      { seriesUid: DicomMetaDictionary.uid(), sopInstanceUid: DicomMetaDictionary.uid(), seriesNumber, now: new Date() },
      measurements,
    );
    try {
      await client.store(studyUid, part10(report));
    } catch (e) {
      throw new MeasurementError(`saving the measurements of study ${studyUid} failed: ${(e as Error).message}`);
    }
    saved += measurements.length;
  }
  return saved;
}

/** The newest measurement report of a study (QIDO-RS for SR series, WADO-RS metadata), naturalized. */
async function newestReport(client: DicomWebClient, studyUid: string): Promise<Record<string, unknown> | undefined> {
  const series = await client.seriesOfModality(studyUid, 'SR');
  const candidates: Array<{ date: string; time: string; json: DicomJson }> = [];
  for (const s of series) {
    const instances = await client.freshSeriesMetadata(studyUid, str(s, TAG.SeriesInstanceUID));
    for (const json of instances) {
      if (!json['0040A730']) continue; // no content tree: not a measurement report
      candidates.push({ date: str(json, '00080023'), time: str(json, '00080033'), json });
    }
  }
  const newest = newestFirst(candidates)[0];
  return newest && DicomMetaDictionary.naturalizeDataset(newest.json);
}

export interface RestoreResult {
  restored: number;
  /** Studies that have a stored report (possibly empty): a deletion there is saved as a new one. */
  reported: string[];
  /** Measurements whose image is not in the open study, or that this viewer cannot draw. */
  skipped: number;
}

/** Restores the newest report of each study onto its images (their series' metadata is loaded first). */
export async function restoreMeasurements(sets: DisplaySet[], studies: Array<{ client: DicomWebClient; studyUid: string }>): Promise<RestoreResult> {
  let restored = 0;
  let skipped = 0;
  const reported: string[] = [];
  for (const { client, studyUid } of studies) {
    const report = await newestReport(client, studyUid);
    if (!report) continue;
    reported.push(studyUid);
    const read = readMeasurementReport(report);
    skipped += read.skipped;
    const studySets = sets.filter((d) => d.studyUid === studyUid && d.client === client);
    await Promise.all(studySets.map((d) => loadDisplaySet(d)));
    const imageIdOf = new Map<string, string>();
    for (const d of studySets) {
      for (const id of d.imageIds ?? []) {
        const inst = instanceJson(id);
        if (inst) imageIdOf.set(`${str(inst, TAG.SOPInstanceUID)}/${frameOf(id)}`, id);
      }
    }
    for (const m of read.measurements) {
      const imageId = imageIdOf.get(`${m.image.sopInstanceUid}/${m.image.frame ?? 1}`);
      if (!imageId || !SAVED[m.toolName] || !addAnnotation(m, imageId)) skipped++;
      else restored++;
    }
  }
  return { restored, skipped, reported };
}

function addAnnotation(m: SrMeasurement, imageId: string): boolean {
  const freehand = m.toolName === PlanarFreehandROITool.toolName;
  const polyline = m.toolName === PolylineTool.toolName;
  const [first, last] = [m.points[0], m.points[m.points.length - 1]];
  const closed = freehand && m.points.length > 3 && first[0] === last[0] && first[1] === last[1];
  const points = m.graphicType === 'ELLIPSE' && m.points.length === 4 ? ellipseForTool(m.points) : closed ? m.points.slice(0, -1) : m.points;
  if ((freehand || polyline) && points.length < 2) return false;
  return addToolAnnotation(m.toolName, imageId, points, { label: m.label, closed: freehand && closed });
}
