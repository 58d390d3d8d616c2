// Scrolling a prior with the current study by position: the current slice's position
// projected on the prior's slice normal, and the prior's slice nearest to it. Two studies
// have two frames of reference, so this assumes the patient lay alike in both (the table
// coordinates of a follow-up CT); there is no registration. No DOM, no Cornerstone.
import { normalOf, orientationOf, positionOf } from './geometry.js';
import type { DicomJson } from '../dicom-json.js';

export type Vec3 = readonly [number, number, number];

/** A slice's plane: where it lies (Image Position) and its unit normal. */
export interface SlicePlane {
  position: Vec3;
  normal: Vec3;
}

/** The plane of frame `frame` (1-based) from its own header, or undefined without orientation and position. */
export function planeOf(ds: DicomJson, frame = 1): SlicePlane | undefined {
  const iop = orientationOf(ds, frame);
  const ipp = positionOf(ds, frame);
  if (!iop || !ipp) return undefined;
  const n = normalOf(iop);
  const len = Math.hypot(...n);
  if (!(len > 0)) return undefined;
  return { position: [ipp[0], ipp[1], ipp[2]], normal: [n[0] / len, n[1] / len, n[2] / len] };
}

const dot = (a: Vec3, b: Vec3) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];

/** Whether two slice planes are parallel (within about 8 degrees): only then is "the same position" meaningful. */
export function parallel(a: Vec3, b: Vec3): boolean {
  return Math.abs(dot(a, b)) > 0.99;
}

/**
 * The index of the target slice nearest to `source`'s position along the target's normal,
 * or undefined when the planes are not parallel or a target slice has no plane. Ties go
 * to the lower index.
 */
export function nearestSliceByPosition(source: SlicePlane, targets: ReadonlyArray<SlicePlane | undefined>): number | undefined {
  const normal = targets[0]?.normal;
  if (!normal || !parallel(source.normal, normal)) return undefined;
  const x = dot(source.position, normal);
  let best: number | undefined;
  let bestDistance = Infinity;
  for (const [i, t] of targets.entries()) {
    if (!t) return undefined;
    const d = Math.abs(dot(t.position, normal) - x);
    if (d < bestDistance) {
      best = i;
      bestDistance = d;
    }
  }
  return best;
}
