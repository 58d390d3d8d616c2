// Curved MPR on synthetic volumes of known geometry: a tilted straight tube and a bent
// (quarter torus) tube come out of the straightened reformat as straight bands of their
// diameter in every row, the cross-section as a disc; arc lengths are right; samples
// outside the volume or in missing slices get the padding value.
import { describe, expect, it } from 'vitest';
import { crossSection, CurveError, curveFrames, straightenedImage, type Point3, type Reformat, type VolumeGrid } from '../../ui/src/viewer3d/curved-mpr.js';

const TUBE = 100;

/** A volume sampling `hu` at voxel centres; `direction` rows are the i, j, k world axes. */
function volume(dimensions: Point3, spacing: Point3, origin: Point3, direction: number[], hu: (p: Point3) => number): VolumeGrid & { data: Float32Array } {
  const [nx, ny, nz] = dimensions;
  const data = new Float32Array(nx * ny * nz);
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const p = [0, 1, 2].map(
          (a) => origin[a] + i * spacing[0] * direction[a] + j * spacing[1] * direction[3 + a] + k * spacing[2] * direction[6 + a],
        ) as Point3;
        data[(k * ny + j) * nx + i] = hu(p);
      }
    }
  }
  return { dimensions, spacing, origin, direction, data, slice: (k) => data.subarray(k * nx * ny, (k + 1) * nx * ny) };
}

/** Straight tube of radius r about the line through `point` along unit `axis`. */
const straightTube = (point: Point3, axis: Point3, r: number) => (p: Point3) => {
  const d = [p[0] - point[0], p[1] - point[1], p[2] - point[2]];
  const t = d[0] * axis[0] + d[1] * axis[1] + d[2] * axis[2];
  return d[0] ** 2 + d[1] ** 2 + d[2] ** 2 - t * t <= r * r ? TUBE : 0;
};

/** Width (mm) and centre offset (mm) of the run of samples above TUBE / 2 through the middle of row r. */
function band(img: Reformat, r: number): { width: number; centre: number } {
  const mid = (img.columns - 1) / 2;
  const row = img.data.subarray(r * img.columns, (r + 1) * img.columns);
  if (row[mid] < TUBE / 2) return { width: 0, centre: NaN };
  let lo = mid;
  let hi = mid;
  while (lo > 0 && row[lo - 1] >= TUBE / 2) lo--;
  while (hi < img.columns - 1 && row[hi + 1] >= TUBE / 2) hi++;
  return { width: (hi - lo + 1) * img.columnSpacing, centre: ((lo + hi) / 2 - mid) * img.columnSpacing };
}

const IDENTITY = [1, 0, 0, 0, 1, 0, 0, 0, 1];

describe('curveFrames', () => {
  it('resamples at uniform arc length with the right total length', () => {
    const f = curveFrames(
      [
        [0, 0, 0],
        [30, 0, 0],
        [30, 40, 0],
      ],
      { step: 0.5, smooth: false },
    );
    expect(f.length).toBeCloseTo(70, 9);
    expect(f.points).toHaveLength(141);
    for (let s = 1; s < f.points.length; s++) {
      // The corner falls on a sample: every chord is a step.
      expect(Math.hypot(...f.points[s].map((x, a) => x - f.points[s - 1][a]))).toBeCloseTo(0.5, 6);
    }
    expect(f.points[60]).toEqual([30, 0, 0]);
    expect(f.points[140]).toEqual([30, 40, 0]);
  });

  it('follows a quarter circle through 5 clicked points with the length of the arc', () => {
    const R = 20;
    const clicks = [0, 1, 2, 3, 4].map((k) => [R * Math.cos((k * Math.PI) / 8), R * Math.sin((k * Math.PI) / 8), 5] as Point3);
    const f = curveFrames(clicks, { step: 0.25 });
    expect(Math.abs(f.length - (Math.PI * R) / 2)).toBeLessThan(0.1);
    for (const p of f.points) expect(Math.abs(Math.hypot(p[0], p[1]) - R)).toBeLessThan(0.15);
    // A planar curve: the rotation-minimizing lateral axis started on the plane's normal stays on it.
    const planar = curveFrames(clicks, { step: 0.25, lateral: [0, 0, 1] });
    for (const l of planar.laterals) expect(l[2]).toBeGreaterThan(0.9999);
    // The frame is orthonormal everywhere.
    for (const [s, t] of planar.tangents.entries()) {
      const l = planar.laterals[s];
      const b = planar.binormals[s];
      expect(Math.abs(t[0] * l[0] + t[1] * l[1] + t[2] * l[2])).toBeLessThan(1e-9);
      expect(Math.hypot(...b)).toBeCloseTo(1, 9);
    }
  });

  it('refuses fewer than 2 distinct points (a double click adds none)', () => {
    expect(() => curveFrames([[1, 2, 3]], { step: 1 })).toThrow(CurveError);
    expect(() =>
      curveFrames(
        [
          [1, 2, 3],
          [1, 2, 3],
        ],
        { step: 1 },
      ),
    ).toThrow(/at least 2 distinct points; it has 1/);
    expect(() =>
      curveFrames(
        [
          [0, 0, 0],
          [1, 0, 0],
        ],
        { step: 0 },
      ),
    ).toThrow(/step must be positive/);
    expect(
      curveFrames(
        [
          [0, 0, 0],
          [4, 0, 0],
          [4, 0, 0],
        ],
        { step: 1 },
      ).points,
    ).toHaveLength(5);
  });
});

describe('straightenedImage and crossSection', () => {
  it('straightens a tilted tube (rotated, anisotropic volume) into a band of its diameter in every row', () => {
    // Volume axes rotated 30° about z; voxels 0.8 x 0.8 x 1.5 mm.
    const c = Math.cos(Math.PI / 6);
    const s = Math.sin(Math.PI / 6);
    const direction = [c, s, 0, -s, c, 0, 0, 0, 1];
    const axis: Point3 = [0.4, 0.3, Math.sqrt(1 - 0.25)];
    const v = volume([80, 80, 50], [0.8, 0.8, 1.5], [-30, -30, 0], direction, straightTube([5, 0, 37], axis, 5));
    const clicks = [-20, -5, 10, 20].map((t) => [5 + t * axis[0], t * axis[1], 37 + t * axis[2]] as Point3);
    const f = curveFrames(clicks, { step: 0.5 });
    expect(f.length).toBeCloseTo(40, 6);
    const img = straightenedImage(v, f, { width: 30, pixelSpacing: 0.5, padding: -1000 });
    expect(img.columns).toBe(61);
    expect(img.rows).toBe(81);
    expect(img.rowSpacing).toBe(0.5);
    for (let r = 0; r < img.rows; r++) {
      const b = band(img, r);
      expect(Math.abs(b.width - 10), `row ${r}: ${JSON.stringify(b)}`).toBeLessThanOrEqual(1);
      expect(Math.abs(b.centre), `row ${r}`).toBeLessThanOrEqual(0.5);
    }
    // A straight tube: the frame does not turn.
    for (const l of f.laterals) expect(l[0] * f.laterals[0][0] + l[1] * f.laterals[0][1] + l[2] * f.laterals[0][2]).toBeCloseTo(1, 9);
    // Its cross-section is a disc of its diameter at the centre.
    const x = crossSection(v, f, 20, { width: 30, pixelSpacing: 0.5 });
    const inside = Array.from(x.data).filter((h) => h >= TUBE / 2).length * 0.25;
    expect(Math.abs(inside - Math.PI * 25) / (Math.PI * 25)).toBeLessThan(0.08);
    expect(x.data[(x.rows * x.columns - 1) / 2]).toBe(TUBE);
    for (const r of [0, x.rows - 1]) expect(x.data[r * x.columns + (x.columns - 1) / 2]).toBe(0);
  });

  it('straightens a bent tube (quarter torus in a tilted plane) with the band straight at every turn', () => {
    // Centre line: circle of radius 25 about `centre` in the plane spanned by e1, e2.
    const R = 25;
    const r = 4;
    const centre: Point3 = [-10, -10, 20];
    const e1: Point3 = [1, 0, 0];
    const e2: Point3 = [0, Math.SQRT1_2, Math.SQRT1_2];
    const normal: Point3 = [0, -Math.SQRT1_2, Math.SQRT1_2];
    const onCircle = (a: number): Point3 => [0, 1, 2].map((k) => centre[k] + R * (Math.cos(a) * e1[k] + Math.sin(a) * e2[k])) as Point3;
    const torus = (p: Point3) => {
      const d = [p[0] - centre[0], p[1] - centre[1], p[2] - centre[2]];
      const u = d[0] * e1[0] + d[1] * e1[1] + d[2] * e1[2];
      const w = d[0] * e2[0] + d[1] * e2[1] + d[2] * e2[2];
      const h = d[0] * normal[0] + d[1] * normal[1] + d[2] * normal[2];
      const a = Math.atan2(w, u);
      if (a < -0.5 || a > Math.PI / 2 + 0.5) return 0;
      return (Math.hypot(u, w) - R) ** 2 + h * h <= r * r ? TUBE : 0;
    };
    const v = volume([70, 70, 60], [1, 1, 1], [-40, -40, -5], IDENTITY, torus);
    const clicks = [0, 1, 2, 3, 4].map((k) => onCircle((k * Math.PI) / 8));
    const f = curveFrames(clicks, { step: 0.5 });
    expect(Math.abs(f.length - (Math.PI * R) / 2)).toBeLessThan(0.1);
    // Lateral axis in the bend's plane (the cut shows the bend's width) and across it.
    for (const lateral of [e1, normal]) {
      const img = straightenedImage(v, f, { width: 24, pixelSpacing: 0.25 });
      const other = straightenedImage(v, curveFrames(clicks, { step: 0.5, lateral }), { width: 24, pixelSpacing: 0.25 });
      for (const im of [img, other]) {
        for (let row = 0; row < im.rows; row++) {
          const b = band(im, row);
          expect(Math.abs(b.width - 2 * r), `row ${row}: ${JSON.stringify(b)}`).toBeLessThanOrEqual(1);
          expect(Math.abs(b.centre), `row ${row}`).toBeLessThanOrEqual(0.5);
        }
      }
    }
    // Cross-sections along the bend: each a disc of the tube's diameter.
    for (const arc of [0, 10, 19.6, 30, f.length]) {
      const x = crossSection(v, f, arc, { width: 16, pixelSpacing: 0.25 });
      const area = Array.from(x.data).filter((h) => h >= TUBE / 2).length * 0.0625;
      expect(Math.abs(area - Math.PI * r * r) / (Math.PI * r * r), `at ${arc} mm`).toBeLessThan(0.08);
    }
  });

  it('pads samples outside the volume and in slices not loaded', () => {
    const v = volume([20, 20, 20], [1, 1, 1], [0, 0, 0], IDENTITY, () => 7);
    // From inside (x = 5) to outside (x = 35) along x: rows past x = 19 are padding.
    const f = curveFrames(
      [
        [5, 10, 10],
        [35, 10, 10],
      ],
      { step: 1, smooth: false },
    );
    const img = straightenedImage(v, f, { width: 4, pixelSpacing: 1, padding: -2048 });
    for (let r = 0; r < img.rows; r++) {
      const row = Array.from(img.data.subarray(r * img.columns, (r + 1) * img.columns));
      const x = 5 + r;
      expect(row, `row ${r} (x = ${x})`).toEqual(new Array(img.columns).fill(x <= 19 ? 7 : -2048));
    }
    // Lateral offsets leaving the volume: padding at the row's ends only.
    const g = curveFrames(
      [
        [10, 1, 10],
        [10, 1, 15],
      ],
      { step: 1, smooth: false, lateral: [0, 1, 0] },
    );
    const wide = straightenedImage(v, g, { width: 6, pixelSpacing: 1, padding: -1 });
    expect(Array.from(wide.data.subarray(0, wide.columns))).toEqual([-1, -1, 7, 7, 7, 7, 7]);
    // Slices not loaded (yet): padding, not a crash.
    const partial: VolumeGrid = { ...v, slice: (k) => (k === 12 ? undefined : v.slice(k)) };
    const x = crossSection(
      partial,
      curveFrames(
        [
          [10, 10, 5],
          [10, 10, 15],
        ],
        { step: 1, smooth: false },
      ),
      0,
      { width: 4, pixelSpacing: 1, padding: -1 },
    );
    expect(Array.from(x.data)).toContain(7);
    const gap = crossSection(
      partial,
      curveFrames(
        [
          [10, 10, 12],
          [10, 10, 15],
        ],
        { step: 1, smooth: false, lateral: [1, 0, 0] },
      ),
      0,
      { width: 4, pixelSpacing: 1, padding: -1 },
    );
    expect(Array.from(gap.data).every((h) => h === -1)).toBe(true);
  });
});
