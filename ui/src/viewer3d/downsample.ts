// How much to shrink a volume for 3D rendering. No DOM, no Cornerstone: unit-tested under Node.

/** Voxels the 3D view renders at most (software WebGL: memory and frame time). */
export const MAX_3D_VOXELS = 64 * 1024 * 1024;
/** The smallest budget one may ask for (`&max3d=`): below it the 3D view shows little. */
export const MIN_3D_VOXELS = 64 * 64 * 64;

/** The integer factors [i, j, k] that bring `dims` under `budget` voxels (in-plane first). */
export function downsampleFactors(dims: readonly number[], budget = MAX_3D_VOXELS): [number, number, number] {
  const f: [number, number, number] = [1, 1, 1];
  const voxels = () => Math.ceil(dims[0] / f[0]) * Math.ceil(dims[1] / f[1]) * Math.ceil(dims[2] / f[2]);
  while (voxels() > budget) {
    // Rows and columns together (square pixels stay square), or the slices, whichever
    // has more samples left.
    if (Math.max(dims[0] / f[0], dims[1] / f[1]) >= dims[2] / f[2]) {
      f[0]++;
      f[1]++;
    } else f[2]++;
  }
  return f;
}
