// PET standardized uptake value, body weight (SUVbw), of a series' instances from their
// DICOM JSON headers. The arithmetic (decay of the dose to the scan start, Philips'
// private scale factors) is @cornerstonejs/calculate-suv's, as OHIF uses it; this module
// checks the header first so that a missing value is named to the reader rather than
// thrown or logged. No DOM, no Cornerstone: unit-tested under Node.
import { calculateSUVScalingFactors, type InstanceMetadata } from '@cornerstonejs/calculate-suv';
import { num, str, text, TAG, type DicomJson } from '../dicom-json.js';

/** SUVbw = modality value (after Rescale Slope/Intercept) x factor; or why there is none. */
export type SuvFactor = { factor: number } | { unavailable: string };

const PET = {
  PatientWeight: '00101030',
  AcquisitionDate: '00080022',
  AcquisitionTime: '00080032',
  RadiopharmaceuticalStartTime: '00181072',
  RadionuclideTotalDose: '00181074',
  RadionuclideHalfLife: '00181075',
  RadiopharmaceuticalStartDateTime: '00181078',
  CorrectedImage: '00280051',
  RadiopharmaceuticalInformationSequence: '00540016',
  Units: '00541001',
  DecayCorrection: '00541102',
} as const;

const PHILIPS_CREATOR = 'Philips PET Private Group';

/** Philips' private SUV Scale Factor (7053,xx00) and Activity Concentration Scale Factor (7053,xx09). */
function philipsFactors(inst: DicomJson): InstanceMetadata['PhilipsPETPrivateGroup'] {
  for (let block = 0x10; block <= 0xff; block++) {
    const creatorTag = `705300${block.toString(16).toUpperCase().padStart(2, '0')}`;
    if (str(inst, creatorTag).trim() !== PHILIPS_CREATOR) continue;
    const b = block.toString(16).toUpperCase().padStart(2, '0');
    return { SUVScaleFactor: num(inst, `7053${b}00`), ActivityConcentrationScaleFactor: num(inst, `7053${b}09`) };
  }
  return undefined;
}

function firstItem(inst: DicomJson, tag: string): DicomJson | undefined {
  const v = inst[tag]?.Value?.[0];
  return v && typeof v === 'object' && !('Alphabetic' in v) ? (v as DicomJson) : undefined;
}

/** The header values calculate-suv reads, or the first one missing, named as PS3.3 names it. */
function instanceMetadata(inst: DicomJson): InstanceMetadata | string {
  const units = str(inst, PET.Units).trim();
  if (!units) return 'no Units (0054,1001)';
  const philips = philipsFactors(inst);
  if (units === 'CNTS') {
    if (!philips?.SUVScaleFactor && !philips?.ActivityConcentrationScaleFactor) return 'Units CNTS without Philips SUV or activity scale factor (7053)';
  } else if (units !== 'BQML') return `Units ${units}: SUV needs BQML (or Philips CNTS)`;
  const corrected = text(inst, PET.CorrectedImage).split('\\').filter(Boolean);
  if (!corrected.includes('DECY') || !corrected.includes('ATTN')) return `Corrected Image (0028,0051) ${corrected.join('\\') || 'absent'}: needs ATTN and DECY`;
  const decay = str(inst, PET.DecayCorrection).trim();
  if (decay !== 'START') return `Decay Correction (0054,1102) ${decay || 'absent'}: only START is supported`;
  const weight = num(inst, PET.PatientWeight);
  if (weight === undefined) return 'no Patient Weight (0010,1030)';
  if (!(weight > 0)) return `Patient Weight (0010,1030) is ${weight}`;
  const drug = firstItem(inst, PET.RadiopharmaceuticalInformationSequence);
  if (!drug) return 'no Radiopharmaceutical Information Sequence (0054,0016)';
  const dose = num(drug, PET.RadionuclideTotalDose);
  if (!(dose !== undefined && dose > 0))
    return dose === undefined ? 'no Radionuclide Total Dose (0018,1074)' : `Radionuclide Total Dose (0018,1074) is ${dose}`;
  const halfLife = num(drug, PET.RadionuclideHalfLife);
  if (!(halfLife !== undefined && halfLife > 0))
    return halfLife === undefined ? 'no Radionuclide Half Life (0018,1075)' : `Radionuclide Half Life (0018,1075) is ${halfLife}`;
  const startDateTime = str(drug, PET.RadiopharmaceuticalStartDateTime).trim();
  const startTime = str(drug, PET.RadiopharmaceuticalStartTime).trim();
  if (!startDateTime && !startTime) return 'no Radiopharmaceutical Start Time (0018,1072) or DateTime (0018,1078)';
  const seriesDate = str(inst, TAG.SeriesDate).trim();
  const seriesTime = str(inst, TAG.SeriesTime).trim();
  if (!seriesDate || !seriesTime) return 'no Series Date/Time (0008,0021/0031)';
  const acquisitionTime = str(inst, PET.AcquisitionTime).trim();
  if (!acquisitionTime) return 'no Acquisition Time (0008,0032)';
  return {
    CorrectedImage: corrected,
    Units: units,
    RadionuclideHalfLife: halfLife,
    RadionuclideTotalDose: dose,
    DecayCorrection: decay,
    PatientWeight: weight,
    SeriesDate: seriesDate,
    SeriesTime: seriesTime,
    AcquisitionDate: str(inst, PET.AcquisitionDate).trim() || seriesDate,
    AcquisitionTime: acquisitionTime,
    ...(startDateTime ? { RadiopharmaceuticalStartDateTime: startDateTime } : { RadiopharmaceuticalStartTime: startTime }),
    ...(philips ? { PhilipsPETPrivateGroup: philips } : {}),
    // Body weight only: size and sex (SUVlbm, SUVbsa) are left out.
  };
}

/**
 * The SUVbw factor of each PET instance of one series (same order), computed for the
 * series as a whole (the scan start is the series' earliest acquisition when the Series
 * Time comes after it). Every instance gets the same reason when the series has none.
 */
export function suvFactors(instances: DicomJson[]): SuvFactor[] {
  if (instances.length === 0) return [];
  const metas: InstanceMetadata[] = [];
  for (const inst of instances) {
    const m = instanceMetadata(inst);
    if (typeof m === 'string') return instances.map(() => ({ unavailable: m }));
    metas.push(m);
  }
  try {
    // calculate-suv warns on the console for the SUVlbm/bsa inputs it lacks; only SUVbw is used here.
    const factors = quietly(() => calculateSUVScalingFactors(metas));
    return factors.map((f) => (Number.isFinite(f.suvbw) && f.suvbw > 0 ? { factor: f.suvbw } : { unavailable: `the SUV factor came out as ${f.suvbw}` }));
  } catch (e) {
    const reason = (e as Error).message.replace(/^calculateDecayCorrection : /, '');
    return instances.map(() => ({ unavailable: reason }));
  }
}

function quietly<T>(f: () => T): T {
  const warn = console.warn;
  console.warn = () => undefined;
  try {
    return f();
  } finally {
    console.warn = warn;
  }
}

/** "2.50": SUVs to two decimals, as reading workstations show them. */
export function formatSuv(v: number): string {
  return v.toFixed(2);
}

/** The probe's SUV line for a modality value. */
export function probeSuvLine(value: number | undefined, f: SuvFactor): string | undefined {
  if ('unavailable' in f) return `SUV n/a: ${f.unavailable}`;
  return typeof value === 'number' && Number.isFinite(value) ? `SUV ${formatSuv(value * f.factor)}` : undefined;
}

/** An ROI's SUV line from its max and mean modality values. */
export function roiSuvLine(stats: { max?: unknown; mean?: unknown }, f: SuvFactor): string | undefined {
  if ('unavailable' in f) return `SUV n/a: ${f.unavailable}`;
  const { max, mean } = stats;
  if (typeof max !== 'number' || typeof mean !== 'number' || !Number.isFinite(max) || !Number.isFinite(mean)) return undefined;
  return `SUVmax ${formatSuv(max * f.factor)} SUVmean ${formatSuv(mean * f.factor)}`;
}
