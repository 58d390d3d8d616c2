// Measurements as a DICOM Comprehensive SR measurement report (TID 1500, the shape OHIF
// writes): one Measurement Group (TID 1501) per measurement with its tracking identifier
// ("Cornerstone3DTools@^0.1.0:<tool>"), its numeric values and its Image Region (SCOORD
// in image pixel coordinates, column then row) on the image it was made on. Works on
// dcmjs's naturalized data sets (plain objects keyed by keyword). No DOM, no Cornerstone.

export const COMPREHENSIVE_SR = '1.2.840.10008.5.1.4.1.1.88.33';
export const TRACKING_PREFIX = 'Cornerstone3DTools@^0.1.0:';

export type GraphicType = 'POINT' | 'POLYLINE' | 'POLYGON' | 'ELLIPSE';

export interface ImageRef {
  sopClassUid: string;
  sopInstanceUid: string;
  seriesUid: string;
  /** 1-based frame of a multi-frame instance. */
  frame?: number;
}

export interface MeasuredValue {
  name: keyof typeof CONCEPTS;
  value: number;
  /** UCUM code: mm, deg, mm2, [hnsf'U] or 1. */
  unit: string;
}

export interface SrMeasurement {
  toolName: string;
  trackingUid: string;
  image: ImageRef;
  graphicType: GraphicType;
  /** Image coordinates, column then row, per point (a closed POLYLINE ends on its first point). */
  points: Array<[number, number]>;
  label?: string;
  values: MeasuredValue[];
}

/** Attributes copied from a measured image into the report (Patient, General Study). */
export interface StudyAttributes {
  StudyInstanceUID: string;
  PatientName?: unknown;
  PatientID?: string;
  PatientBirthDate?: string;
  PatientSex?: string;
  StudyDate?: string;
  StudyTime?: string;
  StudyID?: string;
  AccessionNumber?: string;
  ReferringPhysicianName?: unknown;
}

export interface ReportIdentity {
  seriesUid: string;
  sopInstanceUid: string;
  seriesNumber: number;
  now: Date;
}

type Code = { CodeValue: string; CodingSchemeDesignator: string; CodeMeaning: string };
const code = (CodeValue: string, CodingSchemeDesignator: string, CodeMeaning: string): Code => ({ CodeValue, CodingSchemeDesignator, CodeMeaning });

/** Concept names of the numeric values (SNOMED CT, as in TID 1410/1419). */
export const CONCEPTS = {
  Length: code('410668003', 'SCT', 'Length'),
  Angle: code('1483009', 'SCT', 'Angle'),
  Area: code('42798000', 'SCT', 'Area'),
  Mean: code('373098007', 'SCT', 'Mean'),
  StandardDeviation: code('386136009', 'SCT', 'Standard Deviation'),
  Minimum: code('255605001', 'SCT', 'Minimum'),
  Maximum: code('56851009', 'SCT', 'Maximum'),
  LongAxis: code('103339001', 'SCT', 'Long Axis'),
  ShortAxis: code('103340004', 'SCT', 'Short Axis'),
} as const;

const UNITS: Record<string, string> = { mm: 'millimeter', deg: 'degree', mm2: 'square millimeter', "[hnsf'U]": 'Hounsfield unit', '1': 'no units' };

const REPORT = code('126000', 'DCM', 'Imaging Measurement Report');
const IMAGING_MEASUREMENTS = code('126010', 'DCM', 'Imaging Measurements');
const MEASUREMENT_GROUP = code('125007', 'DCM', 'Measurement Group');
const TRACKING_ID = code('112039', 'DCM', 'Tracking Identifier');
const TRACKING_UID = code('112040', 'DCM', 'Tracking Unique Identifier');
const IMAGE_REGION = code('111030', 'DCM', 'Image Region');
const FINDING = code('121071', 'DCM', 'Finding');
const LANGUAGE = code('121049', 'DCM', 'Language of Content Item and Descendants');
const IMAGE_LIBRARY = code('111028', 'DCM', 'Image Library');
const IMAGE_LIBRARY_GROUP = code('126200', 'DCM', 'Image Library Group');

type Item = Record<string, unknown>;

const da = (d: Date) => `${d.getFullYear()}${String(d.getMonth() + 1).padStart(2, '0')}${String(d.getDate()).padStart(2, '0')}`;
// With milliseconds: a report saved right after another (a deletion) must sort after it.
const tm = (d: Date) =>
  `${String(d.getHours()).padStart(2, '0')}${String(d.getMinutes()).padStart(2, '0')}${String(d.getSeconds()).padStart(2, '0')}.${String(d.getMilliseconds()).padStart(3, '0')}`;

function imageItem(ref: ImageRef): Item {
  const sop: Item = { ReferencedSOPClassUID: ref.sopClassUid, ReferencedSOPInstanceUID: ref.sopInstanceUid };
  if (ref.frame !== undefined) sop.ReferencedFrameNumber = ref.frame;
  return { RelationshipType: 'SELECTED FROM', ValueType: 'IMAGE', ReferencedSOPSequence: [sop] };
}

function measurementGroup(m: SrMeasurement): Item {
  const content: Item[] = [
    { RelationshipType: 'HAS OBS CONTEXT', ValueType: 'TEXT', ConceptNameCodeSequence: [TRACKING_ID], TextValue: TRACKING_PREFIX + m.toolName },
    { RelationshipType: 'HAS OBS CONTEXT', ValueType: 'UIDREF', ConceptNameCodeSequence: [TRACKING_UID], UID: m.trackingUid },
  ];
  if (m.label) content.push({ RelationshipType: 'CONTAINS', ValueType: 'TEXT', ConceptNameCodeSequence: [FINDING], TextValue: m.label.slice(0, 1024) });
  for (const v of m.values) {
    if (!Number.isFinite(v.value)) continue;
    content.push({
      RelationshipType: 'CONTAINS',
      ValueType: 'NUM',
      ConceptNameCodeSequence: [CONCEPTS[v.name]],
      MeasuredValueSequence: [{ NumericValue: roundDs(v.value), MeasurementUnitsCodeSequence: [code(v.unit, 'UCUM', UNITS[v.unit] ?? v.unit)] }],
    });
  }
  content.push({
    RelationshipType: 'CONTAINS',
    ValueType: 'SCOORD',
    ConceptNameCodeSequence: [IMAGE_REGION],
    GraphicType: m.graphicType,
    GraphicData: m.points.flat(),
    ContentSequence: [imageItem(m.image)],
  });
  return {
    RelationshipType: 'CONTAINS',
    ValueType: 'CONTAINER',
    ConceptNameCodeSequence: [MEASUREMENT_GROUP],
    ContinuityOfContent: 'SEPARATE',
    ContentTemplateSequence: [{ MappingResource: 'DCMR', TemplateIdentifier: '1501' }],
    ContentSequence: content,
  };
}

/** A DS value: at most 16 characters. */
function roundDs(v: number): number {
  for (let digits = 6; digits >= 0; digits--) {
    const r = Number(v.toFixed(digits));
    if (String(r).length <= 16) return r;
  }
  return Math.round(v);
}

/** The report as a naturalized data set (dcmjs), ready for datasetToDict. */
export function buildMeasurementReport(study: StudyAttributes, id: ReportIdentity, measurements: SrMeasurement[]): Item {
  const images = new Map<string, ImageRef>();
  for (const m of measurements) images.set(`${m.image.sopInstanceUid}/${m.image.frame ?? ''}`, m.image);
  const bySeries = new Map<string, Map<string, ImageRef>>();
  for (const ref of images.values()) {
    const s = bySeries.get(ref.seriesUid) ?? new Map<string, ImageRef>();
    s.set(ref.sopInstanceUid, ref);
    bySeries.set(ref.seriesUid, s);
  }
  return {
    SOPClassUID: COMPREHENSIVE_SR,
    SOPInstanceUID: id.sopInstanceUid,
    SpecificCharacterSet: 'ISO_IR 192',
    Modality: 'SR',
    Manufacturer: 'open PACS viewer',
    SeriesInstanceUID: id.seriesUid,
    SeriesNumber: id.seriesNumber,
    SeriesDescription: 'Measurements',
    SeriesDate: da(id.now),
    SeriesTime: tm(id.now),
    InstanceNumber: 1,
    ContentDate: da(id.now),
    ContentTime: tm(id.now),
    InstanceCreationDate: da(id.now),
    InstanceCreationTime: tm(id.now),
    ReferencedPerformedProcedureStepSequence: [],
    PerformedProcedureCodeSequence: [],
    CompletionFlag: 'PARTIAL',
    VerificationFlag: 'UNVERIFIED',
    PatientName: study.PatientName ?? '',
    PatientID: study.PatientID ?? '',
    PatientBirthDate: study.PatientBirthDate ?? '',
    PatientSex: study.PatientSex ?? '',
    StudyInstanceUID: study.StudyInstanceUID,
    StudyDate: study.StudyDate ?? '',
    StudyTime: study.StudyTime ?? '',
    StudyID: study.StudyID ?? '',
    AccessionNumber: study.AccessionNumber ?? '',
    ReferringPhysicianName: study.ReferringPhysicianName ?? '',
    CurrentRequestedProcedureEvidenceSequence: [
      {
        StudyInstanceUID: study.StudyInstanceUID,
        ReferencedSeriesSequence: [...bySeries].map(([seriesUid, refs]) => ({
          SeriesInstanceUID: seriesUid,
          ReferencedSOPSequence: [...refs.values()].map((r) => ({ ReferencedSOPClassUID: r.sopClassUid, ReferencedSOPInstanceUID: r.sopInstanceUid })),
        })),
      },
    ],
    ValueType: 'CONTAINER',
    ConceptNameCodeSequence: [REPORT],
    ContinuityOfContent: 'SEPARATE',
    ContentTemplateSequence: [{ MappingResource: 'DCMR', TemplateIdentifier: '1500' }],
    ContentSequence: [
      {
        RelationshipType: 'HAS CONCEPT MOD',
        ValueType: 'CODE',
        ConceptNameCodeSequence: [LANGUAGE],
        ConceptCodeSequence: [code('en-US', 'RFC5646', 'English (United States)')],
      },
      {
        RelationshipType: 'CONTAINS',
        ValueType: 'CONTAINER',
        ConceptNameCodeSequence: [IMAGE_LIBRARY],
        ContinuityOfContent: 'SEPARATE',
        ContentSequence: [
          {
            RelationshipType: 'CONTAINS',
            ValueType: 'CONTAINER',
            ConceptNameCodeSequence: [IMAGE_LIBRARY_GROUP],
            ContinuityOfContent: 'SEPARATE',
            ContentSequence: [...images.values()].map((r) => ({ ...imageItem(r), RelationshipType: 'CONTAINS' })),
          },
        ],
      },
      {
        RelationshipType: 'CONTAINS',
        ValueType: 'CONTAINER',
        ConceptNameCodeSequence: [IMAGING_MEASUREMENTS],
        ContinuityOfContent: 'SEPARATE',
        ContentSequence: measurements.map(measurementGroup),
      },
    ],
  };
}

/** A sequence as dcmjs naturalizes it: an array, a single item, or absent. */
function items(v: unknown): Item[] {
  if (Array.isArray(v)) return v as Item[];
  return v && typeof v === 'object' ? [v as Item] : [];
}

const conceptOf = (i: Item) => items(i.ConceptNameCodeSequence)[0]?.CodeValue;
const first = (v: unknown) => (Array.isArray(v) ? v[0] : v);

export interface ReadReport {
  measurements: SrMeasurement[];
  /** Measurement groups this reader cannot place (no tracking identifier, no image region...). */
  skipped: number;
}

/** The measurements of a report written by buildMeasurementReport (or OHIF's, for the same tools). */
export function readMeasurementReport(ds: Item): ReadReport {
  const out: SrMeasurement[] = [];
  let skipped = 0;
  const containers = items(ds.ContentSequence).filter((i) => i.ValueType === 'CONTAINER' && conceptOf(i) === IMAGING_MEASUREMENTS.CodeValue);
  for (const group of containers.flatMap((c) => items(c.ContentSequence))) {
    if (group.ValueType !== 'CONTAINER') continue;
    const content = items(group.ContentSequence);
    const tracking = content.find((i) => conceptOf(i) === TRACKING_ID.CodeValue);
    const trackingText = String(first(tracking?.TextValue) ?? '');
    const scoord = findScoord(content);
    const imageRef = scoord && items(items(scoord.ContentSequence).find((i) => i.ValueType === 'IMAGE')?.ReferencedSOPSequence)[0];
    const data = scoord ? (items(scoord.GraphicData) as unknown as number[]).map(Number) : [];
    if (!trackingText.startsWith(TRACKING_PREFIX) || !scoord || !imageRef || data.length < 2 || data.length % 2 || !data.every(Number.isFinite)) {
      skipped++;
      continue;
    }
    const points: Array<[number, number]> = [];
    for (let k = 0; k < data.length; k += 2) points.push([data[k], data[k + 1]]);
    const frame = first(imageRef.ReferencedFrameNumber);
    const values: MeasuredValue[] = [];
    for (const num of content.filter((i) => i.ValueType === 'NUM')) {
      const name = (Object.keys(CONCEPTS) as Array<keyof typeof CONCEPTS>).find((k) => CONCEPTS[k].CodeValue === conceptOf(num));
      const mv = items(num.MeasuredValueSequence)[0];
      if (!name || !mv) continue;
      values.push({ name, value: Number(first(mv.NumericValue)), unit: String(items(mv.MeasurementUnitsCodeSequence)[0]?.CodeValue ?? '1') });
    }
    const label = content.find((i) => i.ValueType === 'TEXT' && conceptOf(i) === FINDING.CodeValue);
    out.push({
      toolName: trackingText.slice(TRACKING_PREFIX.length),
      trackingUid: String(first(content.find((i) => conceptOf(i) === TRACKING_UID.CodeValue)?.UID) ?? ''),
      image: {
        sopClassUid: String(first(imageRef.ReferencedSOPClassUID) ?? ''),
        sopInstanceUid: String(first(imageRef.ReferencedSOPInstanceUID) ?? ''),
        seriesUid: '',
        ...(frame !== undefined && frame !== null && frame !== '' ? { frame: Number(frame) } : {}),
      },
      graphicType: String(first(scoord.GraphicType)) as GraphicType,
      points,
      ...(label ? { label: String(first(label.TextValue) ?? '') } : {}),
      values,
    });
  }
  return { measurements: out, skipped };
}

/** The group's SCOORD: directly in it, or under one of its NUMs (INFERRED FROM, as OHIF nests it). */
function findScoord(content: Item[]): Item | undefined {
  const direct = content.find((i) => i.ValueType === 'SCOORD');
  if (direct) return direct;
  for (const i of content) {
    const nested = items(i.ContentSequence).find((c) => c.ValueType === 'SCOORD');
    if (nested) return nested;
  }
  return undefined;
}

/** The newest report among SR instances' DICOM JSON-ish summaries (Content Date and Time, then Series Number). */
export function newestFirst<T extends { date: string; time: string }>(list: T[]): T[] {
  return [...list].sort((a, b) => (b.date + b.time.padEnd(6, '0')).localeCompare(a.date + a.time.padEnd(6, '0')));
}
