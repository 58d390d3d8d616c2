// A CT series of the phantom written as Part 10 files: axial (optionally with gantry
// tilt) or a sagittal reformat, real geometry, one header per series with the slice's
// own elements patched in.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  CT_PADDING_VALUE,
  CT_RESCALE_INTERCEPT,
  CT_RESCALE_SLOPE,
  ctBasePixels,
  ctPhantom,
  ctRegionAt,
  ctSliceZ,
  ctStoredValue,
  paintBone,
  type CtPhantom,
} from './ct-phantom.js';
import {
  accession,
  dicomDate,
  dicomTime,
  ds,
  encodeFileHeader,
  num,
  patientStudyElements,
  shortId,
  str,
  t,
  ui,
  type Element,
  type PatientStudy,
} from './part10.js';
import { newUid, SOP_CLASS } from './uids.js';

export interface CtSeriesOptions extends PatientStudy {
  dir: string;
  count?: number;
  rows?: number;
  cols?: number;
  /** Bits Stored (Bits Allocated is always 16, signed). Default 16; 12 suits JPEG 12-bit codecs. */
  bitsStored?: 12 | 16;
  sliceThickness?: number;
  fovMm?: number;
  seriesNumber?: number;
  seriesDescription?: string;
  /** File name prefix; default `ct-<random>-`. */
  prefix?: string;
  /**
   * A sagittal reformat of this axial phantom volume instead of axial slices: `count`
   * slices `sliceThickness` apart centred on x = 0, one row per axial slice (head at the
   * top), one column per axial row (anterior on the left); same frame of reference when
   * `frameOfReferenceUid` is given.
   */
  sagittalOf?: CtPhantom;
  frameOfReferenceUid?: string;
  /**
   * Gantry/Detector Tilt (degrees): slice i's Image Position moves along y by z * tan(tilt)
   * (the stack is sheared, image planes stay axial). Only the geometry: the pixels are
   * still the untilted phantom's (gen-phantom-volume writes tilt-consistent ones).
   */
  gantryTiltDegrees?: number;
  /** 'MR': MR Image Storage, no rescale (stored values are the image's), no CT attributes. Default 'CT'. */
  modality?: 'CT' | 'MR';
  /**
   * The image's own windows (Window Center / Width, multi-valued, with their Window Center
   * & Width Explanation when named). Default: one window, 40/400 for CT, 500/1000 for MR.
   */
  windows?: Array<{ center: number; width: number; explanation?: string }>;
  /** Study Date (YYYYMMDD; Study Time 12:00:00 then): an older study of the patient, a prior. Default: now. */
  studyDate?: string;
  /** z (mm) of the first slice (the phantom's own is 0): a prior whose slices lie elsewhere. */
  firstZ?: number;
  /** Body Part Examined (0018,0015); none by default. */
  bodyPart?: string;
}

/** Window Center, Width and (when any is named) Explanation, values in step. */
function windowElements(windows: Array<{ center: number; width: number; explanation?: string }>): Element[] {
  const out = [
    str(
      t(0x0028, 0x1050),
      'DS',
      windows.map((w) => ds(w.center)),
    ),
    str(
      t(0x0028, 0x1051),
      'DS',
      windows.map((w) => ds(w.width)),
    ),
  ];
  if (windows.some((w) => w.explanation))
    out.push(
      str(
        t(0x0028, 0x1055),
        'LO',
        windows.map((w) => w.explanation ?? ''),
      ),
    );
  return out;
}

/** y shift (mm) of a slice at `z` of a series acquired with `tiltDegrees` of gantry tilt. */
export function tiltShiftY(z: number, tiltDegrees = 0): number {
  return z * Math.tan((tiltDegrees * Math.PI) / 180);
}

interface SliceGeometry {
  rows: number;
  cols: number;
  /** Row spacing (between rows), column spacing (between columns), mm. */
  spacing: [number, number];
  orientation: number[];
  position(slice: number): [number, number, number];
  /** Stored pixels of a slice into `buf`. */
  paint(slice: number, buf: Buffer): void;
}

function axialGeometry(p: CtPhantom, tiltDegrees?: number): SliceGeometry {
  const base = ctBasePixels(p);
  const x0 = -((p.cols - 1) / 2) * p.pixelSpacing;
  const y0 = -((p.rows - 1) / 2) * p.pixelSpacing;
  return {
    rows: p.rows,
    cols: p.cols,
    spacing: [p.pixelSpacing, p.pixelSpacing],
    orientation: [1, 0, 0, 0, 1, 0],
    position: (i) => {
      const z = ctSliceZ(p, i);
      return [x0, y0 + tiltShiftY(z, tiltDegrees), z];
    },
    paint: (i, buf) => {
      base.copy(buf);
      paintBone(p, i, buf);
    },
  };
}

/** Sagittal slice i of the axial volume `v` at x = (i - (count - 1) / 2) * thickness. */
export function ctSagittalX(count: number, thickness: number, slice: number): number {
  return (slice - (count - 1) / 2) * thickness;
}

function sagittalGeometry(v: CtPhantom, count: number, thickness: number): SliceGeometry {
  const y0 = -((v.rows - 1) / 2) * v.pixelSpacing;
  const zTop = ctSliceZ(v, v.count - 1);
  return {
    rows: v.count,
    cols: v.rows,
    spacing: [v.sliceThickness, v.pixelSpacing],
    orientation: [0, 1, 0, 0, 0, -1],
    position: (i) => [ctSagittalX(count, thickness, i), y0, zTop],
    paint: (i, buf) => {
      const x = ctSagittalX(count, thickness, i);
      for (let r = 0; r < v.count; r++) {
        for (let c = 0; c < v.rows; c++) buf.writeInt16LE(ctStoredValue(ctRegionAt(v, v.count - 1 - r, x, y0 + c * v.pixelSpacing)), (r * v.rows + c) * 2);
      }
    },
  };
}

export interface CtSeriesResult {
  files: string[];
  studyUid: string;
  seriesUid: string;
  sopInstanceUids: string[];
  frameOfReferenceUid: string;
  patientId: string;
  phantom: CtPhantom;
}

/** Writes a CT series (one file per slice, explicit VR LE, 16-bit signed) with new UIDs. */
export async function writeCtSeries(o: CtSeriesOptions): Promise<CtSeriesResult> {
  const count = o.count ?? 300;
  const phantom = ctPhantom({ rows: o.rows, cols: o.cols, count, fovMm: o.fovMm, sliceThickness: o.sliceThickness });
  if (o.firstZ !== undefined) phantom.firstZ = o.firstZ;
  const bitsStored = o.bitsStored ?? 16;
  const now = new Date();
  const ps: Required<PatientStudy> = {
    patientName: o.patientName ?? 'PHANTOM^CT',
    patientId: o.patientId ?? 'PHANTOM-CT',
    studyUid: o.studyUid ?? newUid(),
    studyDescription: o.studyDescription ?? 'Synthetic CT phantom',
    accessionNumber: o.accessionNumber ?? accession(),
  };
  const seriesUid = newUid();
  const frameOfReferenceUid = o.frameOfReferenceUid ?? newUid();
  const geo = o.sagittalOf ? sagittalGeometry(o.sagittalOf, count, phantom.sliceThickness) : axialGeometry(phantom, o.gantryTiltDegrees);
  const seriesNumber = o.seriesNumber ?? 1;
  const prefix = o.prefix ?? `ct-${shortId()}-`;
  fs.mkdirSync(o.dir, { recursive: true });

  const mr = o.modality === 'MR';
  const sopClass = mr ? SOP_CLASS.mr : SOP_CLASS.ct;
  const studyWhen = o.studyDate ? new Date(`${o.studyDate.slice(0, 4)}-${o.studyDate.slice(4, 6)}-${o.studyDate.slice(6, 8)}T12:00:00Z`) : now;
  const common: Element[] = [
    ...patientStudyElements(ps, studyWhen),
    str(t(0x0008, 0x0008), 'CS', o.sagittalOf ? ['DERIVED', 'SECONDARY', 'REFORMATTED'] : ['ORIGINAL', 'PRIMARY', 'AXIAL']),
    str(t(0x0008, 0x0012), 'DA', dicomDate(now)),
    str(t(0x0008, 0x0013), 'TM', dicomTime(now)),
    ui(t(0x0008, 0x0016), sopClass),
    str(t(0x0008, 0x0021), 'DA', dicomDate(now)),
    str(t(0x0008, 0x0023), 'DA', dicomDate(now)),
    str(t(0x0008, 0x0031), 'TM', dicomTime(now)),
    str(t(0x0008, 0x0033), 'TM', dicomTime(now)),
    str(t(0x0008, 0x0060), 'CS', mr ? 'MR' : 'CT'),
    str(t(0x0008, 0x0070), 'LO', 'OpenPACS synthetic'),
    str(t(0x0008, 0x103e), 'LO', o.seriesDescription ?? 'Water cylinder with bone rod'),
    ...(o.bodyPart ? [str(t(0x0018, 0x0015), 'CS', o.bodyPart)] : []),
    str(t(0x0018, 0x0050), 'DS', ds(phantom.sliceThickness)),
    ...(mr ? [] : [str(t(0x0018, 0x0060), 'DS', '120')]),
    ...(o.gantryTiltDegrees !== undefined ? [str(t(0x0018, 0x1120), 'DS', ds(o.gantryTiltDegrees))] : []),
    str(t(0x0018, 0x5100), 'CS', 'HFS'),
    ui(t(0x0020, 0x000e), seriesUid),
    str(t(0x0020, 0x0011), 'IS', seriesNumber),
    str(t(0x0020, 0x0012), 'IS', 1),
    str(t(0x0020, 0x0037), 'DS', geo.orientation),
    ui(t(0x0020, 0x0052), frameOfReferenceUid),
    str(t(0x0020, 0x1040), 'LO', ''),
    num(t(0x0028, 0x0002), 'US', 1),
    str(t(0x0028, 0x0004), 'CS', 'MONOCHROME2'),
    num(t(0x0028, 0x0010), 'US', geo.rows),
    num(t(0x0028, 0x0011), 'US', geo.cols),
    str(t(0x0028, 0x0030), 'DS', geo.spacing.map(ds)),
    num(t(0x0028, 0x0100), 'US', 16),
    num(t(0x0028, 0x0101), 'US', bitsStored),
    num(t(0x0028, 0x0102), 'US', bitsStored - 1),
    num(t(0x0028, 0x0103), 'US', 1),
    ...(!mr ? [num(t(0x0028, 0x0120), 'SS', CT_PADDING_VALUE)] : []),
    ...windowElements(o.windows ?? [mr ? { center: 500, width: 1000 } : { center: 40, width: 400 }]),
    ...(mr ? [] : [str(t(0x0028, 0x1052), 'DS', CT_RESCALE_INTERCEPT), str(t(0x0028, 0x1053), 'DS', CT_RESCALE_SLOPE), str(t(0x0028, 0x1054), 'LO', 'HU')]),
  ];

  const pixels = Buffer.alloc(geo.rows * geo.cols * 2);
  const files: string[] = [];
  const sopInstanceUids: string[] = [];
  for (let i = 0; i < count; i++) {
    const sopInstanceUid = newUid();
    const position = geo.position(i);
    const header = encodeFileHeader(
      sopClass,
      sopInstanceUid,
      [
        ...common,
        ui(t(0x0008, 0x0018), sopInstanceUid),
        str(t(0x0020, 0x0013), 'IS', i + 1),
        str(t(0x0020, 0x0032), 'DS', position.map(ds)),
        str(t(0x0020, 0x1041), 'DS', ds(o.sagittalOf ? position[0] : position[2])),
      ],
      pixels.length,
      'OW',
    );
    geo.paint(i, pixels);
    const file = path.join(o.dir, `${prefix}${String(i + 1).padStart(4, '0')}.dcm`);
    const fd = fs.openSync(file, 'w');
    try {
      fs.writevSync(fd, [header, pixels]);
    } finally {
      fs.closeSync(fd);
    }
    files.push(file);
    sopInstanceUids.push(sopInstanceUid);
  }
  return { files, studyUid: ps.studyUid, seriesUid, sopInstanceUids, frameOfReferenceUid, patientId: ps.patientId, phantom };
}
