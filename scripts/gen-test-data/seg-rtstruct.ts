// Segmentations over a CT series made by tools no one here wrote: a DICOM SEG by dcmjs's
// Segmentation derivation (the code Cornerstone's adapters use to export one) and an
// RTSTRUCT by plastimatch (Debian's package) from one mask image per structure. The masks
// are given as functions of a pixel's patient position, so tests know where each is.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
// @ts-expect-error dcmjs ships no types: the part used here is typed below
import dcmjsUntyped from 'dcmjs';
import { ctPixelPosition, ctSliceZ, type CtPhantom } from './ct-phantom.js';
import type { CtSeriesResult } from './ct-series.js';

const run = promisify(execFile);

type Dataset = Record<string, unknown>;
interface SegmentationDerivation {
  dataset: Dataset & { SOPClassUID: string; SOPInstanceUID: string };
  setNumberOfFrames(n: number): void;
  addSegmentFromLabelmap(segment: Dataset, labelmaps: Uint8Array[], segmentIndexInLabelmap: number, referencedFrameNumbers: number[]): void;
  bitPackPixelData(): void;
}
/** The part of dcmjs used: Part 10 reading and writing, and the Segmentation derivation. */
interface Dcmjs {
  data: {
    DicomMetaDictionary: { naturalizeDataset(ds: Dataset): Dataset; denaturalizeDataset(ds: Dataset): Dataset; namifyDataset(ds: Dataset): Dataset };
    DicomDict: new (meta: Dataset) => { dict: Dataset; write(): ArrayBuffer };
    DicomMessage: { readFile(buffer: ArrayBuffer): { meta: Dataset; dict: Dataset } };
  };
  normalizers: { Normalizer: { normalizeToDataset(datasets: Dataset[]): Dataset | undefined } };
  derivations: { Segmentation: new (datasets: Dataset[]) => SegmentationDerivation };
}
const untyped: unknown = dcmjsUntyped;
const dcmjs = untyped as Dcmjs;

/** Inside the structure at (x, y) mm on slice `slice`? */
export type MaskFn = (x: number, y: number, slice: number) => boolean;

export interface SegSegment {
  label: string;
  /** CIELab as DICOM stores it (0-65535 each): RecommendedDisplayCIELabValue. */
  cielab?: [number, number, number];
  inside: MaskFn;
}

function maskOf(p: CtPhantom, slice: number, inside: MaskFn): Uint8Array {
  const m = new Uint8Array(p.rows * p.cols);
  for (let r = 0; r < p.rows; r++)
    for (let c = 0; c < p.cols; c++) {
      const { x, y } = ctPixelPosition(p, r, c);
      if (inside(x, y, slice)) m[r * p.cols + c] = 1;
    }
  return m;
}

/**
 * A binary DICOM SEG of the CT series by dcmjs: one frame per segment and slice (segments
 * on every slice, empty frames included, as dcmjs writes them), referencing the slices.
 * Resolves with the file's path.
 */
export async function writeSegWithDcmjs(ct: CtSeriesResult, file: string, segments: SegSegment[], seriesDescription = 'Segmentation'): Promise<string> {
  const { DicomMessage, DicomMetaDictionary, DicomDict } = dcmjs.data;
  const images = ct.files.map((f) => {
    const buf = fs.readFileSync(f);
    const dict = DicomMessage.readFile(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    const natural = DicomMetaDictionary.naturalizeDataset(dict.dict);
    natural._meta = DicomMetaDictionary.namifyDataset(dict.meta);
    return natural;
  });
  const multiframe = dcmjs.normalizers.Normalizer.normalizeToDataset(images);
  if (!multiframe) throw new Error('dcmjs could not normalize the CT series');
  const seg = new dcmjs.derivations.Segmentation([multiframe]);
  seg.dataset.SeriesDescription = seriesDescription;
  seg.dataset.SeriesNumber = 300;
  const p = ct.phantom;
  seg.setNumberOfFrames(segments.length * p.count);
  const frames = Array.from({ length: p.count }, (_, i) => i + 1);
  // dcmjs orders the multi-frame's frames by position itself: each frame's slice from its z.
  const perFrame = multiframe.PerFrameFunctionalGroupsSequence as Array<{
    PlanePositionSequence: { ImagePositionPatient: number[] } | Array<{ ImagePositionPatient: number[] }>;
  }>;
  const sliceOf = frames.map((f) => {
    const pp = perFrame[f - 1].PlanePositionSequence;
    const z = Number((Array.isArray(pp) ? pp[0] : pp).ImagePositionPatient[2]);
    return Math.round((z - p.firstZ) / p.sliceThickness);
  });
  segments.forEach((s, k) => {
    const segment: Record<string, unknown> = {
      SegmentedPropertyCategoryCodeSequence: { CodeValue: 'T-D0050', CodingSchemeDesignator: 'SRT', CodeMeaning: 'Tissue' },
      SegmentNumber: k + 1,
      SegmentLabel: s.label,
      SegmentAlgorithmType: 'MANUAL',
      SegmentedPropertyTypeCodeSequence: { CodeValue: 'T-D0050', CodingSchemeDesignator: 'SRT', CodeMeaning: 'Tissue' },
    };
    if (s.cielab) segment.RecommendedDisplayCIELabValue = s.cielab;
    const labelmaps = frames.map((f) => maskOf(p, sliceOf[f - 1], s.inside));
    seg.addSegmentFromLabelmap(segment, labelmaps, 1, frames);
  });
  seg.bitPackPixelData();
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: seg.dataset.SOPClassUID,
    MediaStorageSOPInstanceUID: seg.dataset.SOPInstanceUID,
    TransferSyntaxUID: '1.2.840.10008.1.2.1',
    ImplementationClassUID: '2.25.94650329843745390201796516254651862051',
  };
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = DicomMetaDictionary.denaturalizeDataset(seg.dataset);
  fs.writeFileSync(file, Buffer.from(dict.write()));
  return file;
}

/** A MetaImage (.mha) mask in the CT's voxel grid (LPS, axial, first voxel at the first slice's position). */
function writeMaskImage(p: CtPhantom, file: string, inside: MaskFn): void {
  const first = ctPixelPosition(p, 0, 0);
  const header = [
    'ObjectType = Image',
    'NDims = 3',
    'BinaryData = True',
    'BinaryDataByteOrderMSB = False',
    'TransformMatrix = 1 0 0 0 1 0 0 0 1',
    `Offset = ${first.x} ${first.y} ${ctSliceZ(p, 0)}`,
    `ElementSpacing = ${p.pixelSpacing} ${p.pixelSpacing} ${p.sliceThickness}`,
    `DimSize = ${p.cols} ${p.rows} ${p.count}`,
    'ElementType = MET_UCHAR',
    'ElementDataFile = LOCAL',
    '',
  ].join('\n');
  const voxels = Buffer.concat(Array.from({ length: p.count }, (_, s) => Buffer.from(maskOf(p, s, inside))));
  fs.writeFileSync(file, Buffer.concat([Buffer.from(header, 'latin1'), voxels]));
}

/**
 * An RTSTRUCT of the CT series by plastimatch: each structure a mask image named by the
 * structure, contoured by plastimatch against the CT files (--referenced-ct: its UIDs,
 * frame of reference and contour image references). Resolves with the RTSTRUCT's path.
 */
export async function writeRtStructWithPlastimatch(ct: CtSeriesResult, dir: string, structures: Record<string, MaskFn>): Promise<string> {
  const ctDir = path.join(dir, 'ct');
  const maskDir = path.join(dir, 'masks');
  const outDir = path.join(dir, 'out');
  for (const d of [ctDir, maskDir, outDir]) fs.mkdirSync(d, { recursive: true });
  ct.files.forEach((f, i) => fs.copyFileSync(f, path.join(ctDir, `ct${String(i).padStart(4, '0')}.dcm`)));
  for (const [name, inside] of Object.entries(structures)) writeMaskImage(ct.phantom, path.join(maskDir, `${name}.mha`), inside);
  await run('plastimatch', ['convert', '--input-prefix', maskDir, '--referenced-ct', ctDir, '--output-dicom', outDir], { maxBuffer: 16 << 20 });
  const rtss = fs.readdirSync(outDir).filter((f) => /^rtss/i.test(f));
  if (rtss.length !== 1) throw new Error(`plastimatch wrote ${fs.readdirSync(outDir).join(', ') || 'nothing'}, not one rtss file`);
  return path.join(outDir, rtss[0]);
}
