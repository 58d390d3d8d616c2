// Whether the slices of a series can form one volume, from their WADO-RS metadata: one
// orientation, one size, positions along the slice normal at a uniform spacing. Missing
// slices are named; gantry tilt is measured for correction. No DOM, no Cornerstone:
// unit-tested under Node.
import { num, nums, str, TAG, type DicomJson } from '../dicom-json.js';
import type { SliceShear } from './tilt.js';

/** Tolerances: orientation cosines, and spacing relative to the median step. */
const ORIENTATION_EPS = 1e-3;
const SPACING_REL_EPS = 0.05;
/** Below this the slices are taken as stacked along their normal; above the max, not a gantry tilt. */
const TILT_EPS_DEGREES = 0.05;
const MAX_TILT_DEGREES = 45;

export interface VolumeCheck {
  /** The slices in order along the normal (one entry per frame-holding instance). */
  ordered: DicomJson[];
  /** Distance between consecutive slices (mm), the median step. */
  spacing: number;
  rows: number;
  cols: number;
  /** Angle (degrees) between the slice normal and the direction the slices advance in. */
  tiltDegrees: number;
  /** With gantry tilt: how the stack is sheared (the volume is resampled, see tilt.ts). */
  shear?: SliceShear;
  /** Things the volume is built despite (named for the user). */
  warnings: string[];
}

/** Why a series cannot be made into a volume. */
export class VolumeGeometryError extends Error {
  override readonly name = 'VolumeGeometryError';
}

const cross = (a: number[], b: number[]) => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const dot = (a: number[], b: number[]) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const sub = (a: number[], b: number[]) => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const norm = (a: number[]) => Math.hypot(a[0], a[1], a[2]);

/** Checks single-frame slices (multi-frame instances are out of scope here and say so). */
export function checkVolume(instances: DicomJson[]): VolumeCheck {
  const images = instances.filter((i) => num(i, TAG.Rows) !== undefined);
  if (images.length < 3) throw new VolumeGeometryError(`a volume needs at least 3 slices; the series has ${images.length}`);
  if (images.some((i) => (num(i, TAG.NumberOfFrames) ?? 1) > 1)) {
    throw new VolumeGeometryError('multi-frame instances are not built into volumes yet');
  }
  const iop = nums(images[0], TAG.ImageOrientationPatient);
  if (!iop || iop.length !== 6) throw new VolumeGeometryError('the slices have no Image Orientation (Patient)');
  const rows = num(images[0], TAG.Rows)!;
  const cols = num(images[0], TAG.Columns) ?? 0;
  const normal = cross(iop.slice(0, 3), iop.slice(3, 6));
  const positions: number[][] = [];
  for (const [k, inst] of images.entries()) {
    const o = nums(inst, TAG.ImageOrientationPatient);
    if (!o || o.length !== 6 || o.some((v, j) => Math.abs(v - iop[j]) > ORIENTATION_EPS)) {
      throw new VolumeGeometryError(`slice ${sliceName(inst, k)} has a different orientation (${o?.join('\\') ?? 'none'}) from the first (${iop.join('\\')})`);
    }
    if (num(inst, TAG.Rows) !== rows || (num(inst, TAG.Columns) ?? 0) !== cols) {
      throw new VolumeGeometryError(`slice ${sliceName(inst, k)} is ${num(inst, TAG.Columns)}x${num(inst, TAG.Rows)}, the first ${cols}x${rows}`);
    }
    const p = nums(inst, TAG.ImagePositionPatient);
    if (!p || p.length !== 3) throw new VolumeGeometryError(`slice ${sliceName(inst, k)} has no Image Position (Patient)`);
    positions.push(p);
  }
  const order = images.map((_, k) => k).sort((a, b) => dot(positions[a], normal) - dot(positions[b], normal));
  const ordered = order.map((k) => images[k]);
  const dists = order.map((k) => dot(positions[k], normal));
  const steps = dists.slice(1).map((d, k) => d - dists[k]);
  const dup = steps.findIndex((s) => Math.abs(s) < 1e-3);
  if (dup >= 0) throw new VolumeGeometryError(`slices ${sliceName(ordered[dup], dup)} and ${sliceName(ordered[dup + 1], dup + 1)} are at the same position`);
  const spacing = [...steps].sort((a, b) => a - b)[Math.floor(steps.length / 2)];
  const warnings: string[] = [];
  const gaps: string[] = [];
  for (const [k, s] of steps.entries()) {
    if (Math.abs(s - spacing) <= SPACING_REL_EPS * spacing) continue;
    const missing = Math.round(s / spacing) - 1;
    if (missing >= 1 && Math.abs(s - (missing + 1) * spacing) <= SPACING_REL_EPS * spacing) {
      gaps.push(`${missing} missing between ${dists[k].toFixed(2)} and ${dists[k + 1].toFixed(2)} mm`);
    } else {
      throw new VolumeGeometryError(
        `the slice spacing is not uniform: ${s.toFixed(3)} mm between ${dists[k].toFixed(2)} and ${dists[k + 1].toFixed(2)} mm, ${spacing.toFixed(3)} mm elsewhere`,
      );
    }
  }
  if (gaps.length) {
    const n = gaps.reduce((sum, g) => sum + Number(g.split(' ')[0]), 0);
    throw new VolumeGeometryError(`${n} slice${n > 1 ? 's are' : ' is'} missing (${gaps.slice(0, 3).join('; ')}${gaps.length > 3 ? '; ...' : ''})`);
  }
  // Gantry tilt: the slices advance obliquely to their normal (the volume would be sheared).
  const along = sub(positions[order[order.length - 1]], positions[order[0]]);
  const cosTilt = Math.min(1, Math.abs(dot(along, normal)) / (norm(along) * norm(normal)));
  const tiltDegrees = (Math.acos(cosTilt) * 180) / Math.PI;
  let shear: SliceShear | undefined;
  if (tiltDegrees > MAX_TILT_DEGREES) {
    throw new VolumeGeometryError(
      `the slices advance at ${tiltDegrees.toFixed(1)}° to their normal: more than a gantry tilt (${MAX_TILT_DEGREES}° at most), use the 2D viewer`,
    );
  }
  if (tiltDegrees > TILT_EPS_DEGREES) {
    const ps = nums(images[0], TAG.PixelSpacing);
    if (!ps || ps.length !== 2 || !(ps[0] > 0 && ps[1] > 0))
      throw new VolumeGeometryError(`gantry tilt of ${tiltDegrees.toFixed(1)}° and no Pixel Spacing to correct it with`);
    // In-plane offset from the first slice: along the row direction in columns (spaced
    // PixelSpacing[1]), along the column direction in rows (spaced PixelSpacing[0]).
    const first = positions[order[0]];
    const offset = (p: number[]): [number, number] => [dot(sub(p, first), iop.slice(0, 3)) / ps[1], dot(sub(p, first), iop.slice(3, 6)) / ps[0]];
    shear = { offsets: order.map((k) => offset(positions[k])) };
    warnings.push(`gantry tilt of ${tiltDegrees.toFixed(1)}° corrected (slices shifted onto an orthogonal volume)`);
  }
  const thickness = num(images[0], TAG.SliceThickness);
  if (thickness !== undefined && thickness > spacing * 1.5) warnings.push(`slices ${thickness} mm thick at ${spacing.toFixed(2)} mm spacing`);
  if (new Set(images.map((i) => str(i, TAG.FrameOfReferenceUID))).size > 1) warnings.push('the slices name more than one frame of reference');
  return { ordered, spacing, rows, cols, tiltDegrees, shear, warnings };
}

function sliceName(inst: DicomJson, k: number): string {
  const n = num(inst, TAG.InstanceNumber);
  return n !== undefined ? `#${n}` : `${k + 1}`;
}
