// RT Structure Set (PS3.3 A.19) read from a dcmjs naturalized data set: each ROI's number,
// name and display colour with its contours, points in patient coordinates (mm), and the
// image each contour was drawn on (Contour Image Sequence) when it says so.
// No DOM, no Cornerstone: unit-tested under Node.
import { defaultColour, type Rgb } from './cielab.js';
import { first, items, number, numbers, text, type Natural } from './natural.js';

export class RtStructError extends Error {
  override readonly name = 'RtStructError';
}

export type ContourType = 'CLOSED_PLANAR' | 'OPEN_PLANAR' | 'OPEN_NONPLANAR' | 'POINT';
const TYPES = new Set<string>(['CLOSED_PLANAR', 'OPEN_PLANAR', 'OPEN_NONPLANAR', 'POINT']);

export interface Contour {
  type: ContourType;
  points: Array<[number, number, number]>;
  imageSop?: string;
}

export interface Roi {
  number: number;
  name: string;
  colour: Rgb;
  frameOfReferenceUid: string;
  contours: Contour[];
}

export interface StructureSet {
  sopInstanceUid: string;
  seriesUid: string;
  label: string;
  /** The image series the structures were drawn on (Referenced Frame of Reference Sequence). */
  referencedSeriesUids: string[];
  rois: Roi[];
}

/** Reads an RTSTRUCT; throws an RtStructError naming what is missing or inconsistent. */
export function parseRtStruct(ds: Natural): StructureSet {
  if (text(ds, 'Modality') !== 'RTSTRUCT') throw new RtStructError('not an RT Structure Set (Modality is not RTSTRUCT)');
  const defs = items(ds, 'StructureSetROISequence');
  if (!defs.length) throw new RtStructError('no ROIs (Structure Set ROI Sequence is empty)');
  const byNumber = new Map<number, Roi>();
  defs.forEach((d, i) => {
    const n = number(d, 'ROINumber');
    if (n === undefined) throw new RtStructError(`Structure Set ROI item ${i + 1} has no ROI Number`);
    byNumber.set(n, {
      number: n,
      name: text(d, 'ROIName') || `ROI ${n}`,
      colour: defaultColour(n),
      frameOfReferenceUid: text(d, 'ReferencedFrameOfReferenceUID'),
      contours: [],
    });
  });
  items(ds, 'ROIContourSequence').forEach((rc, i) => {
    const n = number(rc, 'ReferencedROINumber');
    const roi = n === undefined ? undefined : byNumber.get(n);
    if (!roi) throw new RtStructError(`ROI Contour item ${i + 1} refers to ROI ${n ?? '(none)'}, which is not in the Structure Set ROI Sequence`);
    const colour = numbers(rc, 'ROIDisplayColor');
    if (colour?.length === 3) roi.colour = colour.map((c) => Math.max(0, Math.min(255, Math.round(c)))) as Rgb;
    items(rc, 'ContourSequence').forEach((c, k) => {
      const where = `ROI "${roi.name}" contour ${k + 1}`;
      const type = text(c, 'ContourGeometricType');
      if (!TYPES.has(type)) throw new RtStructError(`${where}: Contour Geometric Type "${type}" is not one of ${[...TYPES].join(', ')}`);
      const data = numbers(c, 'ContourData');
      if (!data || data.length % 3 !== 0) throw new RtStructError(`${where}: Contour Data is missing or not x\\y\\z triplets`);
      const count = number(c, 'NumberOfContourPoints');
      if (count !== undefined && count !== data.length / 3)
        throw new RtStructError(`${where}: Number of Contour Points is ${count}, Contour Data holds ${data.length / 3}`);
      const points: Array<[number, number, number]> = [];
      for (let p = 0; p < data.length; p += 3) points.push([data[p], data[p + 1], data[p + 2]]);
      roi.contours.push({ type: type as ContourType, points, imageSop: text(first(c, 'ContourImageSequence'), 'ReferencedSOPInstanceUID') || undefined });
    });
  });
  const series = items(ds, 'ReferencedFrameOfReferenceSequence')
    .flatMap((f) => items(f, 'RTReferencedStudySequence'))
    .flatMap((s) => items(s, 'RTReferencedSeriesSequence'))
    .map((s) => text(s, 'SeriesInstanceUID'))
    .filter(Boolean);
  return {
    sopInstanceUid: text(ds, 'SOPInstanceUID'),
    seriesUid: text(ds, 'SeriesInstanceUID'),
    label: text(ds, 'StructureSetLabel') || text(ds, 'SeriesDescription') || 'Structure set',
    referencedSeriesUids: series,
    rois: [...byNumber.values()],
  };
}
