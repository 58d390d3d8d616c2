// Where a frame lies in the patient, read from its own header only: Image Orientation and
// Position (Patient) at the top level, in the functional groups of an enhanced multi-frame
// (per-frame first, then shared), or in an NM image's Detector Information. No defaults:
// an image without them (a US, a whole-body NM, a secondary capture) has no orientation,
// and the viewer then shows no orientation markers rather than guessed ones. No DOM, no
// Cornerstone: unit-tested under Node.
import { nums, TAG, type DicomJson } from '../dicom-json.js';

const PER_FRAME_GROUPS = '52009230';
const SHARED_GROUPS = '52009229';
const PLANE_ORIENTATION_SEQ = '00209116';
const PLANE_POSITION_SEQ = '00209113';
const DETECTOR_INFORMATION_SEQ = '00540022';

const item = (ds: DicomJson | undefined, tag: string, index = 0): DicomJson | undefined => ds?.[tag]?.Value?.[index] as DicomJson | undefined;

/** The vector of `tag` (of `length` values) for frame `frame` (1-based), wherever the header keeps it. */
function frameVector(ds: DicomJson, frame: number, tag: string, length: number, groupSeq: string): number[] | undefined {
  const ok = (v: number[] | undefined) => (v && v.length === length ? v : undefined);
  const top = ok(nums(ds, tag));
  if (top) return top;
  for (const group of [item(ds, PER_FRAME_GROUPS, frame - 1), item(ds, SHARED_GROUPS)]) {
    const v = ok(nums(item(group, groupSeq) ?? {}, tag));
    if (v) return v;
  }
  // NM (PS3.3 C.8.4.11): one orientation and position per detector; the whole-body scans
  // that matter here leave them out, and then there is none.
  return ok(nums(item(ds, DETECTOR_INFORMATION_SEQ) ?? {}, tag));
}

/** Row and column direction cosines (Image Orientation (Patient)), or undefined when the header has none. */
export function orientationOf(ds: DicomJson, frame = 1): number[] | undefined {
  const v = frameVector(ds, frame, TAG.ImageOrientationPatient, 6, PLANE_ORIENTATION_SEQ);
  // All zeros (seen in the wild) is no orientation either.
  return v && Math.hypot(v[0], v[1], v[2]) > 0.5 && Math.hypot(v[3], v[4], v[5]) > 0.5 ? v : undefined;
}

export function positionOf(ds: DicomJson, frame = 1): number[] | undefined {
  return frameVector(ds, frame, TAG.ImagePositionPatient, 3, PLANE_POSITION_SEQ);
}

/** The slice normal (row x column). */
export function normalOf(iop: number[]): [number, number, number] {
  return [iop[1] * iop[5] - iop[2] * iop[4], iop[2] * iop[3] - iop[0] * iop[5], iop[0] * iop[4] - iop[1] * iop[3]];
}

/**
 * The frame's location (mm): its position projected on the slice normal, what Slice
 * Location should say but, after a reformat or an edit, often does not (PS3.3 C.7.6.2.1.2
 * leaves it "implementation specific"). Undefined without orientation or position.
 */
export function locationOf(ds: DicomJson, frame = 1): number | undefined {
  const iop = orientationOf(ds, frame);
  const ipp = positionOf(ds, frame);
  if (!iop || !ipp) return undefined;
  const n = normalOf(iop);
  const len = Math.hypot(...n) || 1;
  return (ipp[0] * n[0] + ipp[1] * n[1] + ipp[2] * n[2]) / len;
}
