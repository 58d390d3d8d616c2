// Gantry tilt correction. A tilted acquisition's slices advance obliquely to their own
// plane: stacked along the normal as they are, the volume is sheared. Each slice is
// shifted back in its plane (bilinear resampling) onto an orthogonal grid that covers
// every slice. No DOM, no Cornerstone: unit-tested under Node.

/** How a stack is sheared: each slice's in-plane offset from the first, in pixels. */
export interface SliceShear {
  /** [columns, rows] offset of slice k's first pixel from slice 0's, along row and column directions. */
  offsets: Array<[number, number]>;
}

/** The orthogonal grid a sheared stack is resampled onto. */
export interface UnshearedGrid {
  cols: number;
  rows: number;
  slices: number;
  /** Pixel index (column, row) in slice 0's grid of the output's first pixel (<= 0). */
  u0: number;
  v0: number;
}

/** The grid covering every slice of a `cols` x `rows` stack shifted by `shear`. */
export function unshearedGrid(cols: number, rows: number, shear: SliceShear): UnshearedGrid {
  const us = shear.offsets.map((o) => o[0]);
  const vs = shear.offsets.map((o) => o[1]);
  // A hair of tolerance: offsets computed from DS strings are not exact integers.
  const lo = (xs: number[]) => Math.floor(Math.min(...xs) + 1e-6);
  const hi = (xs: number[]) => Math.ceil(Math.max(...xs) - 1e-6);
  const [u0, v0] = [lo(us), lo(vs)];
  return { cols: cols + hi(us) - u0, rows: rows + hi(vs) - v0, slices: shear.offsets.length, u0, v0 };
}

/**
 * Linear interpolation taps for output positions 0..count-1 at source position i + shift
 * in 0..n-1: the samples below (-1 outside) and above, and the weight of the one above
 * (the same for all: the shift is).
 */
function taps(count: number, shift: number, n: number): { lo: Int32Array; hi: Int32Array; w: number } {
  const eps = 1e-6;
  const f = shift - Math.floor(shift);
  const w = f < eps || f > 1 - eps ? 0 : f;
  const lo = new Int32Array(count).fill(-1);
  const hi = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const t = i + shift;
    if (t < -eps || t > n - 1 + eps) continue;
    lo[i] = Math.min(Math.max(Math.floor(t + eps), 0), n - 1);
    hi[i] = w ? Math.min(lo[i] + 1, n - 1) : lo[i];
  }
  return { lo, hi, w };
}

/**
 * Resamples a sheared stack (`src`: slices of `cols` x `rows`, in order) onto `grid`:
 * output voxel (i, j, k) is slice k at its pixel (i + u0 - du_k, j + v0 - dv_k), bilinear.
 * Outside the slice: `fill`.
 */
export function unshear(src: ArrayLike<number>, cols: number, rows: number, shear: SliceShear, grid: UnshearedGrid, fill: number): Float32Array {
  const out = new Float32Array(grid.cols * grid.rows * grid.slices).fill(fill);
  for (let k = 0; k < grid.slices; k++) {
    const [du, dv] = shear.offsets[k];
    const x = taps(grid.cols, grid.u0 - du, cols);
    const y = taps(grid.rows, grid.v0 - dv, rows);
    const base = k * cols * rows;
    for (let j = 0; j < grid.rows; j++) {
      if (y.lo[j] < 0) continue;
      const r0 = base + y.lo[j] * cols;
      const r1 = base + y.hi[j] * cols;
      const o = (k * grid.rows + j) * grid.cols;
      for (let i = 0; i < grid.cols; i++) {
        const x0 = x.lo[i];
        if (x0 < 0) continue;
        const x1 = x.hi[i];
        const top = src[r0 + x0] * (1 - x.w) + src[r0 + x1] * x.w;
        const bottom = src[r1 + x0] * (1 - x.w) + src[r1 + x1] * x.w;
        out[o + i] = top * (1 - y.w) + bottom * y.w;
      }
    }
  }
  return out;
}
