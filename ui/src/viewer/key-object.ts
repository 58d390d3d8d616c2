// Key Object Selection documents (PS3.3 A.35.4, TID 2010) as dcmjs naturalized data sets:
// the images a reader marked as key images, written under the title "Of Interest" and
// read back from any KOS that is not a rejection note. No DOM, no Cornerstone.

export const KOS_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.88.59';

/** Document titles of CID 7010 that withdraw images instead of pointing at them (rejection notes). */
const REJECTIONS = new Set(['113001', '113037', '113038', '113039']);
const OF_INTEREST = { CodeValue: '113000', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Of Interest' };
const DESCRIPTION = { CodeValue: '113012', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Key Object Description' };

export interface KeyImageRef {
  sopClassUid: string;
  sopInstanceUid: string;
  seriesUid: string;
  /** 1-based frame of a multi-frame image. */
  frame?: number;
}

export interface KeyObject {
  sopInstanceUid: string;
  created: string;
  title: string;
  description: string;
  images: KeyImageRef[];
}

type Item = Record<string, unknown>;

const da = (d: Date) => `${d.getFullYear()}${String(d.getMonth() + 1).padStart(2, '0')}${String(d.getDate()).padStart(2, '0')}`;
const tm = (d: Date) => `${String(d.getHours()).padStart(2, '0')}${String(d.getMinutes()).padStart(2, '0')}${String(d.getSeconds()).padStart(2, '0')}`;

/** The KOS as a naturalized data set: one IMAGE item per key image, the evidence by series. */
export function buildKeyObject(
  study: { StudyInstanceUID: string; [keyword: string]: unknown },
  id: { seriesUid: string; sopInstanceUid: string; seriesNumber: number; now: Date },
  images: KeyImageRef[],
  description: string,
): Item {
  const bySeries = new Map<string, Map<string, KeyImageRef>>();
  for (const r of images) {
    const s = bySeries.get(r.seriesUid) ?? new Map<string, KeyImageRef>();
    s.set(r.sopInstanceUid, r);
    bySeries.set(r.seriesUid, s);
  }
  return {
    SOPClassUID: KOS_SOP_CLASS,
    SOPInstanceUID: id.sopInstanceUid,
    SpecificCharacterSet: 'ISO_IR 192',
    InstanceCreationDate: da(id.now),
    InstanceCreationTime: tm(id.now),
    Modality: 'KO',
    Manufacturer: 'open PACS viewer',
    SeriesInstanceUID: id.seriesUid,
    SeriesNumber: id.seriesNumber,
    SeriesDescription: 'Key images',
    SeriesDate: da(id.now),
    SeriesTime: tm(id.now),
    ReferencedPerformedProcedureStepSequence: [],
    InstanceNumber: 1,
    ContentDate: da(id.now),
    ContentTime: tm(id.now),
    PatientName: '',
    PatientID: '',
    PatientBirthDate: '',
    PatientSex: '',
    StudyDate: '',
    StudyTime: '',
    StudyID: '',
    AccessionNumber: '',
    ReferringPhysicianName: '',
    ...study,
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
    ConceptNameCodeSequence: [OF_INTEREST],
    ContinuityOfContent: 'SEPARATE',
    ContentTemplateSequence: [{ MappingResource: 'DCMR', TemplateIdentifier: '2010' }],
    ContentSequence: [
      ...(description
        ? [{ RelationshipType: 'CONTAINS', ValueType: 'TEXT', ConceptNameCodeSequence: [DESCRIPTION], TextValue: description.slice(0, 1024) }]
        : []),
      ...images.map((r) => ({
        RelationshipType: 'CONTAINS',
        ValueType: 'IMAGE',
        ReferencedSOPSequence: [
          {
            ReferencedSOPClassUID: r.sopClassUid,
            ReferencedSOPInstanceUID: r.sopInstanceUid,
            ...(r.frame !== undefined ? { ReferencedFrameNumber: r.frame } : {}),
          },
        ],
      })),
    ],
  };
}

function items(v: unknown): Item[] {
  if (Array.isArray(v)) return v as Item[];
  return v && typeof v === 'object' ? [v as Item] : [];
}
const first = (v: unknown) => (Array.isArray(v) ? v[0] : v);
const text = (v: unknown) => String(first(v) ?? '').trim();

/** The key images of a KOS (naturalized); undefined for a rejection note or another object. */
export function readKeyObject(ds: Item): KeyObject | undefined {
  if (text(ds.SOPClassUID) !== KOS_SOP_CLASS) return undefined;
  const title = items(ds.ConceptNameCodeSequence)[0];
  if (REJECTIONS.has(text(title?.CodeValue))) return undefined;
  const seriesOf = new Map<string, string>();
  for (const study of items(ds.CurrentRequestedProcedureEvidenceSequence))
    for (const s of items(study.ReferencedSeriesSequence))
      for (const r of items(s.ReferencedSOPSequence)) seriesOf.set(text(r.ReferencedSOPInstanceUID), text(s.SeriesInstanceUID));
  const images: KeyImageRef[] = [];
  let description = '';
  for (const c of items(ds.ContentSequence)) {
    if (c.ValueType === 'TEXT' && text(items(c.ConceptNameCodeSequence)[0]?.CodeValue) === DESCRIPTION.CodeValue) description = text(c.TextValue);
    if (c.ValueType !== 'IMAGE') continue;
    const ref = items(c.ReferencedSOPSequence)[0];
    if (!ref) continue;
    const sop = text(ref.ReferencedSOPInstanceUID);
    const frames = (
      Array.isArray(ref.ReferencedFrameNumber) ? ref.ReferencedFrameNumber : ref.ReferencedFrameNumber !== undefined ? [ref.ReferencedFrameNumber] : []
    )
      .map(Number)
      .filter((f) => Number.isInteger(f) && f > 0);
    const base = { sopClassUid: text(ref.ReferencedSOPClassUID), sopInstanceUid: sop, seriesUid: seriesOf.get(sop) ?? '' };
    if (frames.length) for (const frame of frames) images.push({ ...base, frame });
    else images.push(base);
  }
  return {
    sopInstanceUid: text(ds.SOPInstanceUID),
    created: `${text(ds.ContentDate)}${text(ds.ContentTime).padEnd(6, '0')}`,
    title: text(title?.CodeMeaning),
    description,
    images,
  };
}
