// The 3D view's clipping planes: box sides where the box cuts, a plane through the centre
// at an offset, and the side kept being where each normal points.
import { describe, expect, it } from 'vitest';
import {
  anglesOfNormal,
  clipPlanes,
  FULL_BOX,
  normalFromAngles,
  volumeCentre,
  type PlaneSpec,
  type VolumeGeometry,
} from '../../ui/src/viewer3d/clip-planes.js';

// 100 x 50 x 20 voxels of 1 x 2 x 5 mm: 100 x 100 x 100 mm from (-0.5, -1, -2.5) on.
const axial: VolumeGeometry = { origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], spacing: [1, 2, 5], dimensions: [100, 50, 20] };
const kept = (planes: PlaneSpec[], p: number[]) =>
  planes.every((pl) => (p[0] - pl.origin[0]) * pl.normal[0] + (p[1] - pl.origin[1]) * pl.normal[1] + (p[2] - pl.origin[2]) * pl.normal[2] >= 0);

describe('clipPlanes', () => {
  it('has no plane for the full box', () => {
    expect(clipPlanes(axial, { box: FULL_BOX })).toEqual([]);
    expect(volumeCentre(axial)).toEqual([49.5, 49, 47.5]);
  });

  it('cuts the box sides asked for, at fractions of the extent (voxel edges)', () => {
    const planes = clipPlanes(axial, { box: { lo: [0.25, 0, 0], hi: [1, 1, 0.5] } });
    expect(planes).toEqual([
      { origin: [24.5, -1, -2.5], normal: [1, 0, 0] },
      { origin: [-0.5, -1, 47.5], normal: [-0, -0, -1] },
    ]);
    expect(kept(planes, [30, 10, 10])).toBe(true);
    expect(kept(planes, [20, 10, 10])).toBe(false); // left of x = 24.5
    expect(kept(planes, [30, 10, 50])).toBe(false); // above z = 47.5
  });

  it("follows the volume's direction (a sagittal stack)", () => {
    // i along +y, j along -z, k along -x (row x column).
    const sag: VolumeGeometry = { origin: [0, 0, 0], direction: [0, 1, 0, 0, 0, -1, -1, 0, 0], spacing: [1, 1, 1], dimensions: [10, 10, 10] };
    const [p] = clipPlanes(sag, { box: { lo: [0, 0, 0.5], hi: [1, 1, 1] } });
    expect(p.normal).toEqual([-1, 0, 0]);
    expect(p.origin[0]).toBeCloseTo(-4.5, 9);
  });

  it('puts the plane at its offset from the centre, keeping the side its normal points to', () => {
    const [p] = clipPlanes(axial, { box: FULL_BOX, planes: [{ normal: [0, 0, 2], offset: 10 }] });
    expect(p).toEqual({ origin: [49.5, 49, 57.5], normal: [0, 0, 1] });
    expect(kept([p], [0, 0, 60])).toBe(true);
    expect(kept([p], [0, 0, 55])).toBe(false);
  });

  it('refuses an empty box, a plane without a normal and more than six planes', () => {
    expect(() => clipPlanes(axial, { box: { lo: [0.6, 0, 0], hi: [0.4, 1, 1] } })).toThrow(/box is empty along axis i/);
    expect(() => clipPlanes(axial, { box: FULL_BOX, planes: [{ normal: [0, 0, 0], offset: 0 }] })).toThrow(/cut plane 1 has no normal/);
    const all = { lo: [0.1, 0.1, 0.1], hi: [0.9, 0.9, 0.9] } as const;
    expect(clipPlanes(axial, { box: { lo: [...all.lo], hi: [...all.hi] } })).toHaveLength(6);
    expect(() => clipPlanes(axial, { box: { lo: [...all.lo], hi: [...all.hi] }, planes: [{ normal: [1, 0, 0], offset: 0 }] })).toThrow(
      /at most 6 clipping planes: the box cuts 6 sides and 1 cut plane\(s\) are on/,
    );
  });

  it('keeps only what lies between two oblique cut planes', () => {
    // Centre (49.5, 49, 47.5). Cut 1: normal (1, 1, 0)/sqrt 2, 10 mm back from the centre;
    // cut 2: normal (0, -1, 1)/sqrt 2 (towards anterior-superior), 5 mm back.
    const planes = clipPlanes(axial, {
      box: FULL_BOX,
      planes: [
        { normal: normalFromAngles(45, 0), offset: -10 },
        { normal: [0, -1, 1], offset: -5 },
      ],
    });
    expect(planes).toHaveLength(2);
    const c = [49.5, 49, 47.5];
    const at = (d1: number, d2: number) => {
      // A point d1 mm along cut 1's normal and d2 mm along cut 2's from the centre (the normals are not orthogonal: solve).
      const n1 = [Math.SQRT1_2, Math.SQRT1_2, 0];
      const n2 = [0, -Math.SQRT1_2, Math.SQRT1_2];
      // p = c + a n1 + b n2 with n1.n2 = -1/2: a - b/2 = d1, -a/2 + b = d2.
      const a = (4 * d1 + 2 * d2) / 3;
      const b = (2 * d1 + 4 * d2) / 3;
      return [0, 1, 2].map((i) => c[i] + a * n1[i] + b * n2[i]);
    };
    expect(kept(planes, at(0, 0))).toBe(true);
    expect(kept(planes, at(-9, -4))).toBe(true);
    expect(kept(planes, at(-11, 0))).toBe(false); // beyond cut 1
    expect(kept(planes, at(0, -6))).toBe(false); // beyond cut 2
    expect(kept(planes, at(-11, -6))).toBe(false);
  });

  it('turns angles into normals and back', () => {
    expect(normalFromAngles(0, 0)).toEqual([1, 0, 0]);
    expect(normalFromAngles(90, 0)).toEqual([0, 1, 0]);
    expect(normalFromAngles(0, 90)).toEqual([0, 0, 1]);
    const n = normalFromAngles(30, -20);
    expect(n[0]).toBeCloseTo(Math.cos(-20 * (Math.PI / 180)) * Math.cos(Math.PI / 6), 12);
    expect(n[2]).toBeCloseTo(Math.sin(-20 * (Math.PI / 180)), 12);
    const back = anglesOfNormal(n);
    expect(back.azimuth).toBeCloseTo(30, 9);
    expect(back.elevation).toBeCloseTo(-20, 9);
    expect(anglesOfNormal([0, 0, -3])).toEqual({ azimuth: 0, elevation: -90 });
    expect(() => anglesOfNormal([0, 0, 0])).toThrow(/length 0/);
  });
});
