// DICOM JSON (PS3.18 F.2) attribute access by tag (8 hex digits, upper case), for the app
// and the viewers alike. No DOM, no Cornerstone: unit-tested under Node.
import type { DicomJson } from './api.js';

export type { DicomJson, DicomJsonAttribute } from './api.js';

/** The first value as text: a person name by its alphabetic group; '' when absent. */
export function str(ds: DicomJson, tag: string): string {
  const v = ds[tag]?.Value?.[0];
  if (v === undefined || v === null) return '';
  if (typeof v === 'object' && 'Alphabetic' in v) return String((v as { Alphabetic?: string }).Alphabetic ?? '');
  return String(v);
}

/** Every value as text (person names by their alphabetic group), joined with '\\' as DICOM does. */
export function text(ds: DicomJson, tag: string): string {
  const vs = ds[tag]?.Value;
  if (!vs) return '';
  return vs.map((v) => (v && typeof v === 'object' ? String((v as { Alphabetic?: string }).Alphabetic ?? '') : String(v ?? ''))).join('\\');
}

/** The first value as a number; undefined when absent or not a number. */
export function num(ds: DicomJson, tag: string): number | undefined {
  const v = ds[tag]?.Value?.[0];
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

export function nums(ds: DicomJson, tag: string): number[] | undefined {
  const vs = ds[tag]?.Value;
  if (!vs?.length) return undefined;
  const out = vs.map((v) => Number(v));
  return out.every(Number.isFinite) ? out : undefined;
}

/** Tags by keyword, in tag order. */
export const TAG = {
  SOPClassUID: '00080016',
  SOPInstanceUID: '00080018',
  StudyDate: '00080020',
  SeriesDate: '00080021',
  StudyTime: '00080030',
  SeriesTime: '00080031',
  AccessionNumber: '00080050',
  Modality: '00080060',
  ModalitiesInStudy: '00080061',
  StudyDescription: '00081030',
  SeriesDescription: '0008103E',
  ReferencedSOPInstanceUID: '00081155',
  FailureReason: '00081197',
  FailedSOPSequence: '00081198',
  ReferencedSOPSequence: '00081199',
  AvailableTransferSyntaxUID: '00083002',
  PatientName: '00100010',
  PatientID: '00100020',
  IssuerOfPatientID: '00100021',
  PatientBirthDate: '00100030',
  PatientSex: '00100040',
  BodyPartExamined: '00180015',
  SliceThickness: '00180050',
  ImagerPixelSpacing: '00181164',
  StudyInstanceUID: '0020000D',
  SeriesInstanceUID: '0020000E',
  SeriesNumber: '00200011',
  InstanceNumber: '00200013',
  ImagePositionPatient: '00200032',
  ImageOrientationPatient: '00200037',
  FrameOfReferenceUID: '00200052',
  SliceLocation: '00201041',
  NumberOfStudyRelatedSeries: '00201206',
  NumberOfStudyRelatedInstances: '00201208',
  NumberOfSeriesRelatedInstances: '00201209',
  SamplesPerPixel: '00280002',
  PhotometricInterpretation: '00280004',
  NumberOfFrames: '00280008',
  Rows: '00280010',
  Columns: '00280011',
  PixelSpacing: '00280030',
  BitsAllocated: '00280100',
  BitsStored: '00280101',
  PixelRepresentation: '00280103',
  WindowCenter: '00281050',
  WindowWidth: '00281051',
  RescaleIntercept: '00281052',
  RescaleSlope: '00281053',
  RescaleType: '00281054',
  VOILUTFunction: '00281056',
  ModalityLUTSequence: '00283000',
  VOILUTSequence: '00283010',
  PixelData: '7FE00010',
} as const;

/** A DA value as YYYY-MM-DD (other text unchanged). */
export function formatDate(da: string): string {
  return /^\d{8}$/.test(da) ? `${da.slice(0, 4)}-${da.slice(4, 6)}-${da.slice(6)}` : da;
}

/** Red, green, blue Palette Color Lookup Table Descriptor and Data (PS3.3 C.7.6.3.1.5-6). */
const PALETTE = [
  ['00281101', '00281201'],
  ['00281102', '00281202'],
  ['00281103', '00281203'],
] as const;

/**
 * The entries of one palette lookup table: a descriptor of [entries (0 means 65536), first
 * mapped value, bits per entry], data as 16-bit little endian words, or one byte per entry
 * for an 8-bit table whose data is exactly as long as it has entries.
 */
export function paletteEntries(data: Uint8Array, descriptor: readonly number[]): number[] {
  const count = descriptor[0] || 65536;
  if (descriptor[2] !== 16 && data.length === count) return Array.from(data);
  if (data.length < count * 2) throw new Error(`palette lookup table data holds ${data.length} bytes, the descriptor says ${count} entries`);
  return Array.from({ length: count }, (_, i) => data[2 * i] | (data[2 * i + 1] << 8));
}

/**
 * The instance with its PALETTE COLOR lookup tables as numbers in Value. DICOM JSON carries
 * the OW table data as InlineBinary (base64), but the image loader's WADO-RS metadata
 * provider reads only a Value array: without this a palette image never decodes (the
 * loader's promise never settles). Throws, saying which, when a table is missing.
 */
export function withPaletteValues(inst: DicomJson): DicomJson {
  if (str(inst, '00280004') !== 'PALETTE COLOR') return inst;
  let out = inst;
  for (const [descTag, dataTag] of PALETTE) {
    const descriptor = nums(inst, descTag);
    if (!descriptor || descriptor.length < 3) throw new Error(`no palette lookup table descriptor (${descTag})`);
    if (inst[dataTag]?.Value?.length) continue;
    const inline = inst[dataTag]?.InlineBinary;
    if (inline === undefined) throw new Error(`no inline palette lookup table data (${dataTag})`);
    const bytes = Uint8Array.from(atob(inline), (ch) => ch.charCodeAt(0));
    out = { ...out, [dataTag]: { vr: inst[dataTag].vr, Value: paletteEntries(bytes, descriptor) } };
  }
  return out;
}
