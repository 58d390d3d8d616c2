// The SSD surface closed at the volume's edge: a block that fills the volume to its faces
// gives marching cubes no surface at all unless padded; padded, a closed one (every edge
// shared by exactly two triangles) lying on the volume's faces.
import vtkDataArray from '@kitware/vtk.js/Common/Core/DataArray.js';
import vtkImageData from '@kitware/vtk.js/Common/DataModel/ImageData.js';
// @ts-expect-error vtk.js ships no declarations for it (the app declares the part it uses, ui/src/viewer3d/vtk-modules.d.ts)
import vtkImageMarchingCubesUntyped from '@kitware/vtk.js/Filters/General/ImageMarchingCubes.js';
import { describe, expect, it } from 'vitest';
import { padBelow } from '../../ui/src/viewer3d/surface-caps.js';

interface PolyDataLike {
  getPolys(): { getData(): Uint32Array };
  getPoints(): { getData(): Float32Array };
}
const vtkImageMarchingCubes = vtkImageMarchingCubesUntyped as {
  newInstance(o: { contourValue: number; computeNormals: boolean; mergePoints: boolean }): { setInputData(d: unknown): void; getOutputData(): PolyDataLike };
};

function surface(values: ArrayLike<number>, dims: [number, number, number], threshold: number, origin: number[]) {
  const image = vtkImageData.newInstance();
  image.setDimensions(...dims);
  image.setOrigin(origin);
  (image as unknown as { getPointData(): { setScalars(a: unknown): void } })
    .getPointData()
    .setScalars(vtkDataArray.newInstance({ numberOfComponents: 1, values: values as Float32Array }));
  const mc = vtkImageMarchingCubes.newInstance({ contourValue: threshold, computeNormals: false, mergePoints: true });
  mc.setInputData(image);
  const out = mc.getOutputData();
  const polys = out.getPolys().getData();
  const points = out.getPoints().getData();
  const triangles: number[][] = [];
  for (let i = 0; i < polys.length; i += polys[i] + 1) triangles.push(Array.from(polys.subarray(i + 1, i + 1 + polys[i])));
  return { triangles, points };
}

/** Edges used by other than two triangles (0: closed). */
function openEdges(triangles: number[][]): number {
  const uses = new Map<string, number>();
  for (const t of triangles) {
    for (let k = 0; k < 3; k++) {
      const [a, b] = [t[k], t[(k + 1) % 3]].sort((x, y) => x - y);
      uses.set(`${a},${b}`, (uses.get(`${a},${b}`) ?? 0) + 1);
    }
  }
  return [...uses.values()].filter((n) => n !== 2).length;
}

describe('SSD caps', () => {
  it('pads with a border below the threshold, the values in place', () => {
    const p = padBelow(Int16Array.of(5, 7), [2, 1, 1], 6);
    expect(p.dimensions).toEqual([4, 3, 3]);
    expect(p.values).toBeInstanceOf(Int16Array);
    // Centre slice (z = 1), centre row (y = 1): border, 5, 7, border.
    const row = Array.from(p.values.subarray((1 * 3 + 1) * 4, (1 * 3 + 1) * 4 + 4));
    expect(row).toEqual([-32768, 5, 7, -32768]);
    expect(Array.from(p.values).filter((v) => v !== -32768)).toEqual([5, 7]);
    // Unsigned input cannot hold a value below a threshold of 0: a float copy.
    const u = padBelow(Uint8Array.of(0, 200), [2, 1, 1], 0);
    expect(u.values).toBeInstanceOf(Float32Array);
    expect(Math.min(...u.values)).toBeLessThan(-1e5);
    expect(() => padBelow(new Int16Array(3), [2, 1, 1], 0)).toThrow(/3 values for 2 x 1 x 1 voxels/);
  });

  it("closes a surface cut by the volume's faces", () => {
    // A 4 x 4 x 6 volume, a 2 x 2 rod of 300 through every slice (the vessel leaving the slab) in 40.
    const dims: [number, number, number] = [4, 4, 6];
    const values = new Int16Array(4 * 4 * 6).fill(40);
    for (let z = 0; z < 6; z++)
      for (const [x, y] of [
        [1, 1],
        [2, 1],
        [1, 2],
        [2, 2],
      ])
        values[(z * 4 + y) * 4 + x] = 300;
    const open = surface(values, dims, 150, [0, 0, 0]);
    expect(open.triangles.length).toBeGreaterThan(0);
    expect(openEdges(open.triangles)).toBeGreaterThan(0);
    const padded = padBelow(values, dims, 150);
    const closed = surface(padded.values, padded.dimensions, 150, [-1, -1, -1]);
    expect(openEdges(closed.triangles)).toBe(0);
    // The caps lie on the end faces (z = 0 and z = 5) to within a hundredth of a voxel.
    let [zMin, zMax] = [Infinity, -Infinity];
    for (let i = 2; i < closed.points.length; i += 3) [zMin, zMax] = [Math.min(zMin, closed.points[i]), Math.max(zMax, closed.points[i])];
    expect(zMin).toBeGreaterThan(-0.01);
    expect(zMin).toBeLessThan(0);
    expect(zMax).toBeLessThan(5.01);
    expect(zMax).toBeGreaterThan(5);
  });
});
