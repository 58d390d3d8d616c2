// A PET series of known SUV: activity concentration in Bq/ml (Units BQML, decay corrected
// to the series start), 370 MBq of F-18 injected exactly one half-life before the series
// started, a 74 kg patient. SUVbw = C x 74000 g / 185 MBq = C x 4e-4: the background
// (2500 Bq/ml) is SUV 1.00, a hot square (6250 Bq/ml) SUV 2.50. Rescale Slope 0.5, so the
// stored values are twice the concentration (the SUV must be taken after the modality LUT).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { accession, ds, encodeFileHeader, num, patientStudyElements, shortId, sq, str, t, ui, type Element, type PatientStudy } from './part10.js';
import { newUid, SOP_CLASS } from './uids.js';

export const PET_SERIES_DATE = '20260102';
export const PET_INJECTION_TIME = '100000';
/** One F-18 half-life (6586.2 s) after the injection. */
export const PET_SERIES_TIME = '114946.2';
export const PET_HALF_LIFE_S = 6586.2;
export const PET_DOSE_BQ = 370e6;
export const PET_WEIGHT_KG = 74;
export const PET_RESCALE_SLOPE = 0.5;
export const PET_BACKGROUND_BQML = 2500;
export const PET_HOT_BQML = 6250;

export interface PetSeriesOptions extends PatientStudy {
  dir: string;
  count?: number;
  /** Rows = columns; 4 mm pixels. */
  size?: number;
  /** Patient Weight (kg); null leaves it out (no SUV possible). */
  weightKg?: number | null;
  seriesDescription?: string;
}

export interface PetSeriesResult {
  files: string[];
  studyUid: string;
  seriesUid: string;
  size: number;
  count: number;
  pixelSpacing: number;
  /** The hot square: rows and columns from `hot.from` to `hot.to` (inclusive), every slice. */
  hot: { from: number; to: number };
  /** World position (LPS, mm) of pixel (row, col) of slice k. */
  position(row: number, col: number, slice: number): [number, number, number];
}

export async function writePetSeries(o: PetSeriesOptions): Promise<PetSeriesResult> {
  const count = o.count ?? 3;
  const size = o.size ?? 64;
  const spacing = 4;
  const hot = { from: Math.round(size / 4), to: Math.round((3 * size) / 4) - 1 };
  const ps: Required<PatientStudy> = {
    patientName: o.patientName ?? 'PHANTOM^PET',
    patientId: o.patientId ?? 'PHANTOM-PET',
    studyUid: o.studyUid ?? newUid(),
    studyDescription: o.studyDescription ?? 'Synthetic PET phantom',
    accessionNumber: o.accessionNumber ?? accession(),
  };
  const seriesUid = newUid();
  const frameOfReferenceUid = newUid();
  const x0 = -((size - 1) / 2) * spacing;
  const position = (row: number, col: number, slice: number): [number, number, number] => [x0 + col * spacing, x0 + row * spacing, slice * spacing];
  const weight = o.weightKg === undefined ? PET_WEIGHT_KG : o.weightKg;
  const now = new Date();
  const common: Element[] = [
    ...patientStudyElements(ps, now),
    str(t(0x0008, 0x0008), 'CS', ['ORIGINAL', 'PRIMARY']),
    ui(t(0x0008, 0x0016), SOP_CLASS.pet),
    str(t(0x0008, 0x0021), 'DA', PET_SERIES_DATE),
    str(t(0x0008, 0x0022), 'DA', PET_SERIES_DATE),
    str(t(0x0008, 0x0031), 'TM', PET_SERIES_TIME),
    str(t(0x0008, 0x0032), 'TM', PET_SERIES_TIME),
    str(t(0x0008, 0x0060), 'CS', 'PT'),
    str(t(0x0008, 0x0070), 'LO', 'OpenPACS synthetic'),
    str(t(0x0008, 0x103e), 'LO', o.seriesDescription ?? 'PET hot square'),
    ...(weight === null ? [] : [str(t(0x0010, 0x1030), 'DS', ds(weight))]),
    str(t(0x0018, 0x0050), 'DS', ds(spacing)),
    str(t(0x0018, 0x5100), 'CS', 'HFS'),
    ui(t(0x0020, 0x000e), seriesUid),
    str(t(0x0020, 0x0011), 'IS', 1),
    str(t(0x0020, 0x0037), 'DS', [1, 0, 0, 0, 1, 0]),
    ui(t(0x0020, 0x0052), frameOfReferenceUid),
    num(t(0x0028, 0x0002), 'US', 1),
    str(t(0x0028, 0x0004), 'CS', 'MONOCHROME2'),
    num(t(0x0028, 0x0010), 'US', size),
    num(t(0x0028, 0x0011), 'US', size),
    str(t(0x0028, 0x0030), 'DS', [ds(spacing), ds(spacing)]),
    str(t(0x0028, 0x0051), 'CS', ['ATTN', 'DECY']),
    num(t(0x0028, 0x0100), 'US', 16),
    num(t(0x0028, 0x0101), 'US', 16),
    num(t(0x0028, 0x0102), 'US', 15),
    num(t(0x0028, 0x0103), 'US', 0),
    str(t(0x0028, 0x1050), 'DS', ds(PET_HOT_BQML / 2)),
    str(t(0x0028, 0x1051), 'DS', ds(PET_HOT_BQML * 1.2)),
    str(t(0x0028, 0x1052), 'DS', '0'),
    str(t(0x0028, 0x1053), 'DS', ds(PET_RESCALE_SLOPE)),
    str(t(0x0028, 0x1054), 'LO', 'BQML'),
    sq(t(0x0054, 0x0016), [
      [
        str(t(0x0018, 0x0031), 'LO', 'Fluorodeoxyglucose'),
        str(t(0x0018, 0x1072), 'TM', PET_INJECTION_TIME),
        str(t(0x0018, 0x1074), 'DS', ds(PET_DOSE_BQ)),
        str(t(0x0018, 0x1075), 'DS', ds(PET_HALF_LIFE_S)),
      ],
    ]),
    num(t(0x0054, 0x0081), 'US', count),
    str(t(0x0054, 0x1001), 'CS', 'BQML'),
    str(t(0x0054, 0x1002), 'CS', 'EMISSION'),
    str(t(0x0054, 0x1102), 'CS', 'START'),
  ];
  const pixels = Buffer.alloc(size * size * 2);
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      const inside = r >= hot.from && r <= hot.to && c >= hot.from && c <= hot.to;
      pixels.writeUInt16LE((inside ? PET_HOT_BQML : PET_BACKGROUND_BQML) / PET_RESCALE_SLOPE, (r * size + c) * 2);
    }
  }
  fs.mkdirSync(o.dir, { recursive: true });
  const prefix = `pt-${shortId()}-`;
  const files: string[] = [];
  for (let k = 0; k < count; k++) {
    const sop = newUid();
    const header = encodeFileHeader(
      SOP_CLASS.pet,
      sop,
      [
        ...common,
        ui(t(0x0008, 0x0018), sop),
        str(t(0x0020, 0x0013), 'IS', k + 1),
        str(t(0x0020, 0x0032), 'DS', position(0, 0, k).map(ds)),
        num(t(0x0054, 0x1330), 'US', k + 1),
      ],
      pixels.length,
      'OW',
    );
    const file = path.join(o.dir, `${prefix}${String(k + 1).padStart(4, '0')}.dcm`);
    fs.writeFileSync(file, Buffer.concat([header, pixels]));
    files.push(file);
  }
  return { files, studyUid: ps.studyUid, seriesUid, size, count, pixelSpacing: spacing, hot, position };
}
