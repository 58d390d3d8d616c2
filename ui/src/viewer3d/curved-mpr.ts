// Curved MPR: a polyline of world points (mm, patient LPS) clicked along a vessel or other
// structure is smoothed (centripetal Catmull-Rom) and resampled at uniform arc-length steps,
// a rotation-minimizing frame is carried along it (double reflection), and the volume is
// sampled (trilinear) into the straightened reformat (rows: arc length; columns: offset
// along the frame's lateral axis) and into the cross-section perpendicular to the curve at
// one arc position. No DOM, no Cornerstone: unit-tested under Node.

export type Point3 = [number, number, number];

/** A volume as Cornerstone holds one: slice k (nx * ny voxels, i fastest) of nz. */
export interface VolumeGrid {
  dimensions: Point3;
  spacing: Point3;
  /** World position of voxel (0, 0, 0)'s centre. */
  origin: Point3;
  /** Unit world directions of i, j and k, one after the other (9 numbers). */
  direction: ArrayLike<number>;
  /** The voxels of slice k, or undefined when it is not (yet) loaded: padding there. */
  slice(k: number): ArrayLike<number> | undefined;
}

/** The curve resampled at uniform steps, with its moving frame at each sample. */
export interface CurveFrames {
  points: Point3[];
  /** Unit tangent. */
  tangents: Point3[];
  /** Unit lateral axis (the straightened image's columns), perpendicular to the tangent. */
  laterals: Point3[];
  /** tangent x lateral (the cross-section's rows). */
  binormals: Point3[];
  /** Arc length between consecutive samples (mm). */
  step: number;
  /** Length of the whole curve (mm); the last sample is at (points.length - 1) * step <= length. */
  length: number;
}

/** A reformatted image: rows x columns samples, row by row. */
export interface Reformat {
  data: Float32Array;
  rows: number;
  columns: number;
  /** mm between rows (the straightened image: arc length) and between columns. */
  rowSpacing: number;
  columnSpacing: number;
}

/** A polyline that cannot make a curve (too few points, or all in one place). */
export class CurveError extends Error {
  override readonly name = 'CurveError';
}

const sub = (a: Point3, b: Point3): Point3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const addScaled = (a: Point3, b: Point3, k: number): Point3 => [a[0] + k * b[0], a[1] + k * b[1], a[2] + k * b[2]];
const dot = (a: Point3, b: Point3) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a: Point3, b: Point3): Point3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const dist = (a: Point3, b: Point3) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
const unit = (a: Point3): Point3 => {
  const n = Math.hypot(a[0], a[1], a[2]);
  return [a[0] / n, a[1] / n, a[2] / n];
};
const lerp = (a: Point3, b: Point3, ta: number, tb: number, t: number): Point3 => {
  if (tb === ta) return a;
  const u = (t - ta) / (tb - ta);
  return [a[0] + u * (b[0] - a[0]), a[1] + u * (b[1] - a[1]), a[2] + u * (b[2] - a[2])];
};

/** Drops points repeating the previous one (a double click lands twice on one spot). */
function distinct(points: Point3[]): Point3[] {
  return points.filter((p, k) => k === 0 || dist(p, points[k - 1]) > 1e-6);
}

/** Centripetal Catmull-Rom between p1 and p2 at u in [0, 1] (Barry-Goldman pyramid). */
function catmullRom(p0: Point3, p1: Point3, p2: Point3, p3: Point3, u: number): Point3 {
  const t1 = Math.sqrt(dist(p0, p1)) || 1e-9;
  const t2 = t1 + (Math.sqrt(dist(p1, p2)) || 1e-9);
  const t3 = t2 + (Math.sqrt(dist(p2, p3)) || 1e-9);
  const t = t1 + u * (t2 - t1);
  const a1 = lerp(p0, p1, 0, t1, t);
  const a2 = lerp(p1, p2, t1, t2, t);
  const a3 = lerp(p2, p3, t2, t3, t);
  return lerp(lerp(a1, a2, 0, t2, t), lerp(a2, a3, t1, t3, t), t1, t2, t);
}

/** A dense polyline along the curve: the clicked points, or the spline through them. */
function densify(points: Point3[], smooth: boolean, step: number): Point3[] {
  if (!smooth || points.length < 3) return points;
  const n = points.length;
  // Phantom end points continue the curve's bend (quadratic extrapolation: 3a - 3b + c).
  const beyond = (a: Point3, b: Point3, c: Point3) => addScaled(addScaled(c, a, 3), b, -3);
  const at = (k: number): Point3 =>
    k < 0 ? beyond(points[0], points[1], points[2]) : k >= n ? beyond(points[n - 1], points[n - 2], points[n - 3]) : points[k];
  const out: Point3[] = [points[0]];
  for (let k = 0; k < n - 1; k++) {
    const pieces = Math.max(8, Math.ceil((4 * dist(points[k], points[k + 1])) / step));
    for (let s = 1; s <= pieces; s++) out.push(catmullRom(at(k - 1), points[k], points[k + 1], at(k + 2), s / pieces));
  }
  return out;
}

/** The world direction least along `t`, made perpendicular to it. */
function perpendicular(t: Point3, reference?: Point3): Point3 {
  if (reference) {
    const r = sub(reference, [t[0] * dot(reference, t), t[1] * dot(reference, t), t[2] * dot(reference, t)]);
    if (Math.hypot(...r) > 1e-6) return unit(r);
  }
  const axes: Point3[] = [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
  ];
  const a = axes.reduce((best, x) => (Math.abs(dot(x, t)) < Math.abs(dot(best, t)) ? x : best));
  return unit(sub(a, [t[0] * dot(a, t), t[1] * dot(a, t), t[2] * dot(a, t)]));
}

export interface CurveOptions {
  /** Arc length between samples (mm). */
  step: number;
  /** Centripetal Catmull-Rom through the points (default) or straight segments. */
  smooth?: boolean;
  /** The lateral axis at the first point: this direction made perpendicular to the curve. */
  lateral?: Point3;
  /** Rotation (radians) of the frame about the tangent (turns the straightened cut). */
  angle?: number;
}

/**
 * Resamples the curve through `points` every `step` mm of arc length and carries a
 * rotation-minimizing frame along it (Wang et al. 2008, double reflection): the lateral
 * axis turns only as much as the tangent does, so a straight tube stays straight.
 */
export function curveFrames(input: Point3[], o: CurveOptions): CurveFrames {
  if (!(o.step > 0)) throw new CurveError(`the sampling step must be positive, not ${o.step}`);
  const points = distinct(input);
  if (points.length < 2) throw new CurveError(`a curve needs at least 2 distinct points; it has ${points.length}`);
  const dense = densify(points, o.smooth ?? true, o.step);
  const cumulative = [0];
  for (let k = 1; k < dense.length; k++) cumulative.push(cumulative[k - 1] + dist(dense[k], dense[k - 1]));
  const length = cumulative[cumulative.length - 1];
  const count = Math.floor(length / o.step + 1e-9) + 1;
  const samples: Point3[] = [];
  const tangents: Point3[] = [];
  let seg = 1;
  for (let s = 0; s < count; s++) {
    const arc = s * o.step;
    while (seg < dense.length - 1 && cumulative[seg] < arc) seg++;
    samples.push(lerp(dense[seg - 1], dense[seg], cumulative[seg - 1], cumulative[seg], arc));
    tangents.push(unit(sub(dense[seg], dense[seg - 1])));
  }
  // Tangents from the resampled curve where it has neighbours (smoother than the dense segments).
  for (let s = 1; s < count - 1; s++) {
    const d = sub(samples[s + 1], samples[s - 1]);
    if (Math.hypot(...d) > 1e-9) tangents[s] = unit(d);
  }
  const laterals: Point3[] = [perpendicular(tangents[0], o.lateral)];
  for (let s = 1; s < count; s++) {
    const v1 = sub(samples[s], samples[s - 1]);
    const c1 = dot(v1, v1);
    if (c1 < 1e-18) {
      laterals.push(laterals[s - 1]);
      continue;
    }
    const rL = addScaled(laterals[s - 1], v1, (-2 / c1) * dot(v1, laterals[s - 1]));
    const tL = addScaled(tangents[s - 1], v1, (-2 / c1) * dot(v1, tangents[s - 1]));
    const v2 = sub(tangents[s], tL);
    const c2 = dot(v2, v2);
    const r = c2 < 1e-18 ? rL : addScaled(rL, v2, (-2 / c2) * dot(v2, rL));
    // Re-orthogonalize against numerical drift.
    laterals.push(perpendicular(tangents[s], r));
  }
  const angle = o.angle ?? 0;
  const binormals: Point3[] = [];
  for (let s = 0; s < count; s++) {
    const b = cross(tangents[s], laterals[s]);
    if (angle) {
      const l = laterals[s];
      laterals[s] = addScaled([l[0] * Math.cos(angle), l[1] * Math.cos(angle), l[2] * Math.cos(angle)], b, Math.sin(angle));
      binormals.push(cross(tangents[s], laterals[s]));
    } else binormals.push(b);
  }
  return { points: samples, tangents, laterals, binormals, step: o.step, length };
}

/** Trilinear sampling in continuous voxel indices, `padding` outside the volume or in missing slices. */
function sampler(v: VolumeGrid, padding: number): (i: number, j: number, k: number) => number {
  const [nx, ny, nz] = v.dimensions;
  const slices: Array<ArrayLike<number> | undefined> = new Array(nz);
  const asked = new Uint8Array(nz);
  const slice = (k: number) => {
    if (!asked[k]) {
      asked[k] = 1;
      slices[k] = v.slice(k);
    }
    return slices[k];
  };
  const eps = 1e-6;
  // Neighbour offsets along i and j (none along an axis of one voxel).
  const di = nx > 1 ? 1 : 0;
  const dj = ny > 1 ? nx : 0;
  const base = (x: number, n: number) => (n > 1 ? Math.max(0, Math.min(Math.floor(x), n - 2)) : 0);
  const frac = (x: number, x0: number, n: number) => (n > 1 ? Math.min(1, Math.max(0, x - x0)) : 0);
  return (i, j, k) => {
    if (!(i >= -eps && j >= -eps && k >= -eps && i <= nx - 1 + eps && j <= ny - 1 + eps && k <= nz - 1 + eps)) return padding;
    const i0 = base(i, nx);
    const j0 = base(j, ny);
    const k0 = base(k, nz);
    const fi = frac(i, i0, nx);
    const fj = frac(j, j0, ny);
    const fk = frac(k, k0, nz);
    const a = slice(k0);
    if (!a) return padding;
    const o = j0 * nx + i0;
    const o1 = o + dj;
    const top = a[o] + fi * (a[o + di] - a[o]);
    const za = top + fj * (a[o1] + fi * (a[o1 + di] - a[o1]) - top);
    if (fk === 0) return za;
    const b = slice(k0 + 1);
    if (!b) return padding;
    const topB = b[o] + fi * (b[o + di] - b[o]);
    return za + fk * (topB + fj * (b[o1] + fi * (b[o1 + di] - b[o1]) - topB) - za);
  };
}

/** World to continuous voxel index (the direction is orthonormal): the affine map as a function. */
function toIndex(v: VolumeGrid): { point(p: Point3): Point3; vector(d: Point3): Point3 } {
  const d = v.direction;
  const axes: Point3[] = [0, 1, 2].map((a) => [d[3 * a], d[3 * a + 1], d[3 * a + 2]] as Point3);
  const vector = (w: Point3): Point3 => [dot(w, axes[0]) / v.spacing[0], dot(w, axes[1]) / v.spacing[1], dot(w, axes[2]) / v.spacing[2]];
  return { vector, point: (p) => vector(sub(p, v.origin)) };
}

export interface SampleOptions {
  /** Width of the image across the curve (mm), centred on it. */
  width: number;
  /** mm between columns (and, for the cross-section, rows). */
  pixelSpacing: number;
  /** Value outside the volume. */
  padding?: number;
}

/** Columns centred on the curve: an odd count, the middle one on it. */
const centredColumns = (width: number, spacing: number) => 2 * Math.max(1, Math.round(width / 2 / spacing)) + 1;

/**
 * The straightened reformat: row s is the curve's sample s, column c the point
 * (c - middle) * pixelSpacing mm along its lateral axis.
 */
export function straightenedImage(v: VolumeGrid, f: CurveFrames, o: SampleOptions): Reformat {
  const columns = centredColumns(o.width, o.pixelSpacing);
  const rows = f.points.length;
  const data = new Float32Array(rows * columns);
  const at = sampler(v, o.padding ?? 0);
  const idx = toIndex(v);
  const half = (columns - 1) / 2;
  for (let r = 0; r < rows; r++) {
    const p = idx.point(f.points[r]);
    const l = idx.vector(f.laterals[r]);
    for (let c = 0; c < columns; c++) {
      const t = (c - half) * o.pixelSpacing;
      data[r * columns + c] = at(p[0] + t * l[0], p[1] + t * l[1], p[2] + t * l[2]);
    }
  }
  return { data, rows, columns, rowSpacing: f.step, columnSpacing: o.pixelSpacing };
}

/**
 * The cross-section perpendicular to the curve at arc length `arc` (mm, clamped to the
 * curve): columns along the lateral axis, rows along the binormal, the curve at the centre.
 */
export function crossSection(v: VolumeGrid, f: CurveFrames, arc: number, o: SampleOptions): Reformat {
  const s = Math.min(f.points.length - 1, Math.max(0, Math.round(arc / f.step)));
  const n = centredColumns(o.width, o.pixelSpacing);
  const data = new Float32Array(n * n);
  const at = sampler(v, o.padding ?? 0);
  const idx = toIndex(v);
  const p = idx.point(f.points[s]);
  const l = idx.vector(f.laterals[s]);
  const b = idx.vector(f.binormals[s]);
  const half = (n - 1) / 2;
  for (let r = 0; r < n; r++) {
    const y = (r - half) * o.pixelSpacing;
    for (let c = 0; c < n; c++) {
      const x = (c - half) * o.pixelSpacing;
      data[r * n + c] = at(p[0] + x * l[0] + y * b[0], p[1] + x * l[1] + y * b[1], p[2] + x * l[2] + y * b[2]);
    }
  }
  return { data, rows: n, columns: n, rowSpacing: o.pixelSpacing, columnSpacing: o.pixelSpacing };
}
