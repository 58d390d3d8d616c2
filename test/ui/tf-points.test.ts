// The transfer function editor's curve: points stay in value order while moved, added and
// deleted; hit-testing picks the nearest point drawn; the histogram counts in range.
import { describe, expect, it } from 'vitest';
import { addPoint, deletePoint, hitPoint, histogram, movePoint, normalizePoints, opacityAt } from '../../ui/src/viewer3d/tf-points.js';

const bone = [
  { x: -3024, y: 0 },
  { x: -16, y: 0 },
  { x: 641, y: 0.72 },
  { x: 3071, y: 0.71 },
];

describe('transfer function points', () => {
  it('moves a point within its neighbours and opacity within 0..1', () => {
    expect(movePoint(bone, 2, { x: 1200, y: 0 })[2]).toEqual({ x: 1200, y: 0 });
    expect(movePoint(bone, 2, { x: 5000, y: 2 })[2]).toEqual({ x: 3071 - 1e-3, y: 1 });
    expect(movePoint(bone, 2, { x: -5000, y: -1 })[2]).toEqual({ x: -16 + 1e-3, y: 0 });
    expect(movePoint(bone, 0, { x: -9000, y: 0.5 })[0]).toEqual({ x: -9000, y: 0.5 });
    expect(bone[2]).toEqual({ x: 641, y: 0.72 }); // the input is not changed
    expect(() => movePoint(bone, 4, { x: 0, y: 0 })).toThrow(/no point 4/);
  });

  it('adds in value order, replacing a point at the same value, and deletes down to two', () => {
    const added = addPoint(bone, { x: 1000, y: 0.1 });
    expect(added.index).toBe(3);
    expect(added.points.map((p) => p.x)).toEqual([-3024, -16, 641, 1000, 3071]);
    expect(addPoint(bone, { x: 641, y: 0.3 }).points).toHaveLength(4);
    expect(addPoint(bone, { x: 641, y: 0.3 }).points[2]).toEqual({ x: 641, y: 0.3 });
    expect(deletePoint(bone, 1).map((p) => p.x)).toEqual([-3024, 641, 3071]);
    expect(deletePoint(deletePoint(deletePoint(bone, 0), 0), 0)).toHaveLength(2);
    expect(
      normalizePoints([
        { x: 2, y: 3 },
        { x: 1, y: -1 },
        { x: NaN, y: 0 },
      ]),
    ).toEqual([
      { x: 1, y: 0 },
      { x: 2, y: 1 },
    ]);
  });

  it('interpolates the opacity and finds the point under the pointer', () => {
    expect(opacityAt(bone, 300)).toBeCloseTo((0.72 * 316) / 657, 9);
    expect(opacityAt(bone, -5000)).toBe(0);
    expect(opacityAt(bone, 5000)).toBe(0.71);
    const toCanvas = (p: { x: number; y: number }): [number, number] => [p.x / 10, 100 - 100 * p.y];
    expect(hitPoint(bone, [64, 28], toCanvas, 7)).toBe(2);
    expect(hitPoint(bone, [64, 60], toCanvas, 7)).toBe(-1);
  });

  it('counts values in equal bins over the range', () => {
    const values = Float32Array.from([0, 0, 1, 5, 9.99, 10, 11, -1]);
    expect([...histogram(values, 2, 0, 10)]).toEqual([3, 3]); // 0, 0, 1 | 5, 9.99, 10
    expect([...histogram(values, 2, 5, 5)]).toEqual([0, 0]);
  });
});
