// The SSD surface closed where the object meets the volume's edge: marching cubes draws a
// surface only between voxels on either side of the threshold, so an object cut by a face
// of the volume (a vessel running out of the slab) was an open tube. A one-voxel border
// below the threshold all round gives every cut a cap on the face. No DOM, no vtk.

export interface Padded {
  values: Int16Array | Int32Array | Float32Array | Float64Array;
  dimensions: [number, number, number];
}

/**
 * `values` (x fastest, dimensions `dims`) inside a one-voxel border of a value far below
 * `threshold`: the surface's vertices on the border's edges then lie within a few hundredths
 * of a voxel of the volume's faces. The border voxel at index -1 along each axis: shift the
 * origin by one voxel back.
 */
export function padBelow(values: ArrayLike<number>, dims: readonly [number, number, number], threshold: number): Padded {
  const [nx, ny, nz] = dims;
  if (values.length !== nx * ny * nz) throw new RangeError(`${values.length} values for ${dims.join(' x ')} voxels`);
  const [px, py, pz] = [nx + 2, ny + 2, nz + 2];
  const n = px * py * pz;
  // The source's own type when its range reaches far enough below the threshold (no copy
  // in a wider type for a whole CT); else 32-bit float.
  let out: Padded['values'];
  let border: number;
  if (values instanceof Int16Array && threshold > -32768 + 1000) [out, border] = [new Int16Array(n), -32768];
  else if (values instanceof Int32Array && threshold > -2147483648 + 1e6) [out, border] = [new Int32Array(n), -2147483648];
  else if (values instanceof Float64Array) [out, border] = [new Float64Array(n), threshold - 1e9];
  else [out, border] = [new Float32Array(n), threshold - 1e6];
  out.fill(border);
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      const from = (z * ny + y) * nx;
      const to = ((z + 1) * py + (y + 1)) * px + 1;
      for (let x = 0; x < nx; x++) out[to + x] = values[from + x];
    }
  }
  return { values: out, dimensions: [px, py, pz] };
}
