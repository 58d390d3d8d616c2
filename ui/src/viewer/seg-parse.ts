// DICOM Segmentation (PS3.3 A.51) read from a dcmjs naturalized data set: its segments
// (number, label, colour) and its frames, each one segment's mask on one plane, located
// by the image it was derived from (Derivation Image Sequence) and by its plane (Plane
// Position / Orientation, Pixel Measures; per frame or shared). BINARY frames are bit
// packed across frame boundaries; FRACTIONAL ones are scaled by Maximum Fractional Value.
// No DOM, no Cornerstone: unit-tested under Node.
import { defaultColour, dicomLabToRgb, type Rgb } from './cielab.js';
import { bytes, first, items, number, numbers, text, type Natural } from './natural.js';

export const SEG_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.66.4';

export class SegError extends Error {
  override readonly name = 'SegError';
}

export interface Segment {
  number: number;
  label: string;
  colour: Rgb;
}

/** Where a frame lies: the top left pixel's centre, row and column directions, spacing (between rows, between columns), mm. */
export interface FramePlane {
  position: [number, number, number];
  orientation: [number, number, number, number, number, number];
  spacing: [number, number];
}

export interface SegFrame {
  segment: number;
  /** The source image's SOP Instance UID (and frame, for a multi-frame source). */
  sourceSop?: string;
  sourceFrame?: number;
  plane?: FramePlane;
  /** Opacity per pixel, row by row: 0 outside, 255 fully inside. */
  mask: Uint8Array;
}

export interface Segmentation {
  sopInstanceUid: string;
  seriesUid: string;
  label: string;
  rows: number;
  columns: number;
  frameOfReferenceUid: string;
  /** The image series the segmentation was made on (Referenced Series Sequence). */
  referencedSeriesUids: string[];
  segments: Segment[];
  frames: SegFrame[];
}

function planeOf(fg: Natural | undefined, shared: Natural | undefined): FramePlane | undefined {
  const pick = (seq: string, kw: string) => numbers(first(fg, seq), kw) ?? numbers(first(shared, seq), kw);
  const position = pick('PlanePositionSequence', 'ImagePositionPatient');
  const orientation = pick('PlaneOrientationSequence', 'ImageOrientationPatient');
  const spacing = pick('PixelMeasuresSequence', 'PixelSpacing');
  if (position?.length !== 3 || orientation?.length !== 6 || spacing?.length !== 2 || spacing.some((s) => s <= 0)) return undefined;
  return {
    position: position as FramePlane['position'],
    orientation: orientation as FramePlane['orientation'],
    spacing: spacing as FramePlane['spacing'],
  };
}

/** Reads a SEG; throws a SegError naming what is missing or inconsistent. */
export function parseSeg(ds: Natural): Segmentation {
  const sop = text(ds, 'SOPInstanceUID');
  if (text(ds, 'Modality') !== 'SEG' && text(ds, 'SOPClassUID') !== SEG_SOP_CLASS) throw new SegError('not a DICOM Segmentation (Modality is not SEG)');
  const rows = number(ds, 'Rows');
  const columns = number(ds, 'Columns');
  const frameCount = number(ds, 'NumberOfFrames');
  if (!rows || !columns || rows < 1 || columns < 1) throw new SegError('Rows or Columns missing');
  if (!frameCount || frameCount < 1 || !Number.isInteger(frameCount)) throw new SegError('Number of Frames missing');
  const type = text(ds, 'SegmentationType');
  if (type !== 'BINARY' && type !== 'FRACTIONAL') throw new SegError(`Segmentation Type "${type}" is not BINARY or FRACTIONAL`);
  const segments = items(ds, 'SegmentSequence').map((s, i) => {
    const n = number(s, 'SegmentNumber') ?? i + 1;
    const lab = numbers(s, 'RecommendedDisplayCIELabValue');
    return { number: n, label: text(s, 'SegmentLabel') || `Segment ${n}`, colour: lab?.length === 3 ? dicomLabToRgb(lab) : defaultColour(n) };
  });
  if (!segments.length) throw new SegError('no segments (Segment Sequence is empty)');
  const perFrame = items(ds, 'PerFrameFunctionalGroupsSequence');
  if (perFrame.length !== frameCount) throw new SegError(`${perFrame.length} per-frame functional group items for ${frameCount} frames`);
  const shared = first(ds, 'SharedFunctionalGroupsSequence');
  const pixels = bytes(ds, 'PixelData');
  if (!pixels) throw new SegError('no Pixel Data');
  const perFrameBits = rows * columns;
  const bits = number(ds, 'BitsAllocated') ?? (type === 'BINARY' ? 1 : 8);
  if (type === 'BINARY' && bits !== 1) throw new SegError(`a BINARY segmentation with Bits Allocated ${bits} (must be 1)`);
  if (type === 'FRACTIONAL' && bits !== 8) throw new SegError(`a FRACTIONAL segmentation with Bits Allocated ${bits} (must be 8)`);
  const needed = type === 'BINARY' ? Math.ceil((perFrameBits * frameCount) / 8) : perFrameBits * frameCount;
  if (pixels.length < needed) throw new SegError(`Pixel Data holds ${pixels.length} bytes, ${needed} needed for ${frameCount} frames of ${columns}x${rows}`);
  const maxFraction = type === 'FRACTIONAL' ? (number(ds, 'MaximumFractionalValue') ?? 255) : 1;
  if (maxFraction < 1) throw new SegError('Maximum Fractional Value must be at least 1');
  const known = new Set(segments.map((s) => s.number));
  const sharedSegment = number(first(shared, 'SegmentIdentificationSequence'), 'ReferencedSegmentNumber');
  const frames = perFrame.map((fg, f): SegFrame => {
    const segment = number(first(fg, 'SegmentIdentificationSequence'), 'ReferencedSegmentNumber') ?? sharedSegment;
    if (segment === undefined) throw new SegError(`frame ${f + 1} names no segment (Segment Identification Sequence)`);
    if (!known.has(segment)) throw new SegError(`frame ${f + 1} refers to segment ${segment}, which is not in the Segment Sequence`);
    const source = first(first(fg, 'DerivationImageSequence'), 'SourceImageSequence') ?? first(fg, 'ReferencedImageSequence');
    const mask = new Uint8Array(perFrameBits);
    if (type === 'BINARY') {
      const start = f * perFrameBits;
      for (let i = 0; i < perFrameBits; i++) {
        const bit = start + i;
        if ((pixels[bit >> 3] >> (bit & 7)) & 1) mask[i] = 255;
      }
    } else {
      const start = f * perFrameBits;
      for (let i = 0; i < perFrameBits; i++) mask[i] = Math.round((Math.min(pixels[start + i], maxFraction) / maxFraction) * 255);
    }
    return {
      segment,
      sourceSop: text(source, 'ReferencedSOPInstanceUID') || undefined,
      sourceFrame: number(source, 'ReferencedFrameNumber'),
      plane: planeOf(fg, shared),
      mask,
    };
  });
  return {
    sopInstanceUid: sop,
    seriesUid: text(ds, 'SeriesInstanceUID'),
    label: text(ds, 'SeriesDescription') || text(ds, 'ContentLabel') || 'Segmentation',
    rows,
    columns,
    frameOfReferenceUid: text(ds, 'FrameOfReferenceUID'),
    referencedSeriesUids: items(ds, 'ReferencedSeriesSequence')
      .map((s) => text(s, 'SeriesInstanceUID'))
      .filter(Boolean),
    segments,
    frames,
  };
}
