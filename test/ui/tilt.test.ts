// Gantry tilt correction: a sheared stack resampled onto an orthogonal grid gives back
// what an untilted acquisition of the same object would have.
import { describe, expect, it } from 'vitest';
import { unshear, unshearedGrid } from '../../ui/src/viewer3d/tilt.js';

describe('unshearedGrid', () => {
  it('grows the grid to cover every shifted slice', () => {
    expect(
      unshearedGrid(10, 8, {
        offsets: [
          [0, 0],
          [0, 1.5],
          [0, 3],
        ],
      }),
    ).toEqual({ cols: 10, rows: 11, slices: 3, u0: 0, v0: 0 });
    expect(
      unshearedGrid(10, 8, {
        offsets: [
          [0, 0],
          [-0.5, -1],
          [-1, -2],
        ],
      }),
    ).toEqual({ cols: 11, rows: 10, slices: 3, u0: -1, v0: -2 });
    // DS rounding: an offset a hair off a whole pixel does not add a row.
    expect(
      unshearedGrid(10, 8, {
        offsets: [
          [0, 0],
          [0, 2.0000000001],
        ],
      }).rows,
    ).toBe(10);
  });
});

describe('unshear', () => {
  // A world function sampled by a tilted acquisition: slice k at z = k, its pixel (c, r) at
  // x = c + du_k, y = r + dv_k (1 mm pixels).
  const cols = 12;
  const rows = 9;
  const slices = 6;
  function sheared(f: (x: number, y: number, z: number) => number, du: (k: number) => number, dv: (k: number) => number): Float32Array {
    const src = new Float32Array(cols * rows * slices);
    for (let k = 0; k < slices; k++) for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) src[(k * rows + r) * cols + c] = f(c + du(k), r + dv(k), k);
    return src;
  }

  it('gives back a linear function exactly wherever a slice covers the grid (fractional shifts)', () => {
    const f = (x: number, y: number, z: number) => 2 * x + 3 * y + 5 * z + 1;
    const dv = (k: number) => k * Math.tan((15 * Math.PI) / 180); // 15° tilt, 1 mm slices and pixels
    const src = sheared(f, () => 0, dv);
    const shear = { offsets: [...Array(slices).keys()].map((k): [number, number] => [0, dv(k)]) };
    const grid = unshearedGrid(cols, rows, shear);
    expect(grid).toMatchObject({ cols, rows: rows + 2, u0: 0, v0: 0 });
    const out = unshear(src, cols, rows, shear, grid, -1000);
    let inside = 0;
    for (let k = 0; k < slices; k++) {
      for (let j = 0; j < grid.rows; j++) {
        for (let i = 0; i < grid.cols; i++) {
          const v = out[(k * grid.rows + j) * grid.cols + i];
          const covered = j >= dv(k) - 1e-9 && j <= dv(k) + rows - 1 + 1e-9;
          if (covered) {
            inside++;
            expect(v, `${i},${j},${k}`).toBeCloseTo(f(i, j, k), 3);
          } else expect(v, `${i},${j},${k}`).toBe(-1000);
        }
      }
    }
    expect(inside).toBeGreaterThan(cols * rows * slices * 0.9);
  });

  it('moves a sphere back to where it is (shifts along rows and columns, negative too)', () => {
    const ball = (x: number, y: number, z: number) => ((x - 6) ** 2 + (y - 4) ** 2 + (z - 3) ** 2 <= 4 ? 100 : 0);
    const du = (k: number) => -k;
    const dv = (k: number) => k - 2;
    const src = sheared(ball, du, dv);
    const shear = { offsets: [...Array(slices).keys()].map((k): [number, number] => [du(k) - du(0), dv(k) - dv(0)]) };
    const grid = unshearedGrid(cols, rows, shear);
    expect(grid).toMatchObject({ cols: cols + 5, rows: rows + 5, u0: -5, v0: 0 });
    const out = unshear(src, cols, rows, shear, grid, 0);
    // Output (i, j, k) is at x = i + u0 + du(0), y = j + v0 + dv(0): the ball's voxels there.
    for (let k = 0; k < slices; k++) {
      for (let j = 0; j < grid.rows; j++) {
        for (let i = 0; i < grid.cols; i++) expect(out[(k * grid.rows + j) * grid.cols + i]).toBe(ball(i - 5, j - 2, k));
      }
    }
  });
});
