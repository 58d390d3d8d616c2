// The opacity curve of the transfer function editor as a list of points (value, opacity),
// kept in value order: add, move (between its neighbours), delete, hit-test; and the
// histogram drawn behind it. No DOM, no vtk: unit-tested under Node.

export interface TfPoint {
  /** Scalar value (HU for CT). */
  x: number;
  /** Opacity, 0..1. */
  y: number;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** Points sorted by value, one per value (the last wins), opacity within 0..1. */
export function normalizePoints(points: readonly TfPoint[]): TfPoint[] {
  const byX = new Map<number, number>();
  for (const p of points) if (Number.isFinite(p.x) && Number.isFinite(p.y)) byX.set(p.x, clamp(p.y, 0, 1));
  return [...byX].map(([x, y]) => ({ x, y })).sort((a, b) => a.x - b.x);
}

/** Moves point `i` to `p`, its value kept strictly between its neighbours' (the order holds). */
export function movePoint(points: readonly TfPoint[], i: number, p: TfPoint): TfPoint[] {
  if (i < 0 || i >= points.length) throw new RangeError(`no point ${i} (${points.length} points)`);
  const gap = 1e-3;
  const lo = i > 0 ? points[i - 1].x + gap : -Infinity;
  const hi = i < points.length - 1 ? points[i + 1].x - gap : Infinity;
  const out = points.map((q) => ({ ...q }));
  out[i] = { x: clamp(p.x, lo, hi), y: clamp(p.y, 0, 1) };
  return out;
}

/** Adds a point (replacing one at the same value): the new list and the point's index. */
export function addPoint(points: readonly TfPoint[], p: TfPoint): { points: TfPoint[]; index: number } {
  const out = normalizePoints([...points, p]);
  return { points: out, index: out.findIndex((q) => q.x === p.x) };
}

/** Deletes point `i`; a curve keeps at least two points. */
export function deletePoint(points: readonly TfPoint[], i: number): TfPoint[] {
  if (points.length <= 2) return points.map((q) => ({ ...q }));
  return points.filter((_, k) => k !== i).map((q) => ({ ...q }));
}

/** The point drawn within `radius` (canvas px) of `at`, the nearest; -1 when none. */
export function hitPoint(points: readonly TfPoint[], at: [number, number], toCanvas: (p: TfPoint) => [number, number], radius: number): number {
  let best = -1;
  let bestD = radius;
  points.forEach((p, k) => {
    const [cx, cy] = toCanvas(p);
    const d = Math.hypot(cx - at[0], cy - at[1]);
    if (d <= bestD) {
      best = k;
      bestD = d;
    }
  });
  return best;
}

/** Opacity of the piecewise linear curve at `x` (flat beyond the ends). */
export function opacityAt(points: readonly TfPoint[], x: number): number {
  if (!points.length) return 0;
  if (x <= points[0].x) return points[0].y;
  for (let k = 1; k < points.length; k++) {
    const [a, b] = [points[k - 1], points[k]];
    if (x <= b.x) return a.y + ((b.y - a.y) * (x - a.x)) / (b.x - a.x);
  }
  return points[points.length - 1].y;
}

/** Counts of `values` in `bins` equal bins over [min, max], from at most `maxSamples` evenly strided samples. */
export function histogram(values: ArrayLike<number>, bins: number, min: number, max: number, maxSamples = 2_000_000): Uint32Array {
  const counts = new Uint32Array(bins);
  if (!(max > min)) return counts;
  const stride = Math.max(1, Math.floor(values.length / maxSamples));
  const scale = bins / (max - min);
  for (let i = 0; i < values.length; i += stride) {
    const v = values[i];
    if (v < min || v > max) continue;
    counts[Math.min(bins - 1, Math.floor((v - min) * scale))]++;
  }
  return counts;
}
