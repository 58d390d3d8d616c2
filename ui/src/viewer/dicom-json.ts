// DICOM JSON (PS3.18 F.2) attribute access by tag (8 hex digits, upper case). No DOM, no
// Cornerstone: unit-tested under Node.

/** One attribute of a DICOM JSON data set (PS3.18 F.2). */
export interface DicomJsonValue {
  vr: string;
  Value?: unknown[];
  BulkDataURI?: string;
  InlineBinary?: string;
}
export type DicomJson = Record<string, DicomJsonValue>;

export function str(ds: DicomJson, tag: string): string {
  const v = ds[tag]?.Value?.[0];
  if (v === undefined || v === null) return '';
  if (typeof v === 'object' && 'Alphabetic' in v) return String((v as { Alphabetic?: string }).Alphabetic ?? '');
  return String(v);
}

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

export const TAG = {
  StudyDate: '00080020',
  Modality: '00080060',
  StudyDescription: '00081030',
  SeriesDescription: '0008103E',
  PatientName: '00100010',
  PatientID: '00100020',
  SliceThickness: '00180050',
  StudyInstanceUID: '0020000D',
  SeriesInstanceUID: '0020000E',
  SeriesNumber: '00200011',
  InstanceNumber: '00200013',
  ImagePositionPatient: '00200032',
  ImageOrientationPatient: '00200037',
  FrameOfReferenceUID: '00200052',
  SliceLocation: '00201041',
  NumberOfSeriesRelatedInstances: '00201209',
  NumberOfFrames: '00280008',
  SOPInstanceUID: '00080018',
  SeriesDate: '00080021',
  SeriesTime: '00080031',
  PixelSpacing: '00280030',
  ImagerPixelSpacing: '00181164',
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
