// Building one series into a Cornerstone streaming image volume over the same wadors:
// image ids as the 2D viewer (so slices already cached are not fetched again), after the
// geometry check; and a downsampled copy for 3D rendering when the full volume is too big.
import { cache, Enums, eventTarget, imageLoader, volumeLoader, type Types } from '@cornerstonejs/core';
import { wadors } from '@cornerstonejs/dicom-image-loader';
import { num, str, TAG, type DicomJson } from '../dicom-json.js';
import type { DicomWebClient } from '../dicomweb.js';
import { unshear, unshearedGrid } from './tilt.js';
import { checkVolume, VolumeGeometryError, type VolumeCheck } from './volume-geometry.js';

export { downsampleFactors } from './downsample.js';

export interface SeriesVolume {
  readonly volumeId: string;
  readonly volume: Types.IImageVolume;
  readonly check: VolumeCheck;
  readonly imageIds: string[];
  readonly modality: string;
  /** Resolves when every slice has been loaded (or failed): the count of failures. */
  readonly loaded: Promise<number>;
}

/** The series to show: the one asked for, else the one with most instances. */
export async function pickSeries(client: DicomWebClient, studyUid: string, seriesUid: string | null): Promise<DicomJson> {
  const list = await client.series(studyUid);
  if (!list.length) throw new Error(`study ${studyUid}: not found or empty`);
  if (seriesUid) {
    const s = list.find((x) => str(x, TAG.SeriesInstanceUID) === seriesUid);
    if (!s) throw new Error(`series ${seriesUid} is not in study ${studyUid}`);
    return s;
  }
  const count = (s: DicomJson) => num(s, TAG.NumberOfSeriesRelatedInstances) ?? 0;
  return [...list].sort((a, b) => count(b) - count(a))[0];
}

/**
 * Reads the series' metadata, checks it forms a volume (throws VolumeGeometryError when
 * not) and creates the streaming volume; its slices are fetched in the background,
 * `onSlice` telling how many have arrived.
 */
export async function buildSeriesVolume(
  client: DicomWebClient,
  studyUid: string,
  seriesUid: string,
  onSlice: (done: number, total: number) => void,
): Promise<SeriesVolume> {
  const instances = await client.seriesMetadata(studyUid, seriesUid);
  const check = checkVolume(instances);
  const imageIds = check.ordered.map((inst) => {
    const id = client.frameImageId(studyUid, seriesUid, str(inst, TAG.SOPInstanceUID), 1);
    wadors.metaDataManager.add(id, inst as never);
    return id;
  });
  const volumeId = `cornerstoneStreamingImageVolume:${seriesUid}`;
  const volume = (await volumeLoader.createAndCacheVolume(volumeId, { imageIds })) as Types.IStreamingImageVolume;
  const total = imageIds.length;
  let failed = 0;
  const onFail = (e: Event) => {
    const id = (e as CustomEvent<{ imageId?: string }>).detail?.imageId;
    if (id && imageIds.includes(id)) failed++;
  };
  eventTarget.addEventListener(Enums.Events.IMAGE_LOAD_ERROR, onFail);
  const onModified = (e: Event) => {
    const d = (e as CustomEvent<{ volumeId?: string; framesProcessed?: number }>).detail;
    if (d?.volumeId === volumeId) onSlice(d.framesProcessed ?? 0, total);
  };
  eventTarget.addEventListener(Enums.Events.IMAGE_VOLUME_MODIFIED, onModified);
  const loaded = new Promise<number>((resolve) => {
    // The callback runs once every slice has been processed (loaded or failed for good).
    (volume as unknown as { load(cb: () => void): void }).load(() => {
      eventTarget.removeEventListener(Enums.Events.IMAGE_LOAD_ERROR, onFail);
      eventTarget.removeEventListener(Enums.Events.IMAGE_VOLUME_MODIFIED, onModified);
      onSlice(total, total);
      resolve(failed);
    });
  });
  return { volumeId, volume, check, imageIds, modality: str(instances[0], TAG.Modality), loaded };
}

/**
 * With gantry tilt: once every slice is loaded, the stack resampled onto an orthogonal
 * volume (tilt.ts) in place of the sheared one Cornerstone stacks along the normal. The
 * series as it is otherwise.
 */
export async function correctTilt(series: SeriesVolume): Promise<SeriesVolume> {
  const shear = series.check.shear;
  if (!shear) return series;
  const failed = await series.loaded;
  const src = series.volume;
  const [cols, rows] = src.dimensions;
  const grid = unshearedGrid(cols, rows, shear);
  const data = joined(await volumeSlices(src));
  let fill = Infinity;
  for (let i = 0; i < data.length; i++) if (data[i] < fill) fill = data[i];
  const scalarData = sameType([data], unshear(data, cols, rows, shear, grid, fill));
  const d = src.direction;
  const [du, dv] = [grid.u0 * src.spacing[0], grid.v0 * src.spacing[1]];
  const origin = [0, 1, 2].map((k) => src.origin[k] + du * d[k] + dv * d[3 + k]) as Types.Point3;
  const volumeId = `tilt-corrected-${series.volumeId.replace(/^.*:/, '')}`;
  const volume =
    cache.getVolume(volumeId) ??
    uploaded(
      volumeLoader.createLocalVolume(volumeId, {
        metadata: src.metadata,
        dimensions: [grid.cols, grid.rows, grid.slices],
        spacing: src.spacing,
        origin,
        direction: d,
        scalarData,
      }),
    );
  return { ...series, volumeId, volume, loaded: Promise.resolve(failed) };
}

/**
 * A local volume averaging f[i] x f[j] x f[k] blocks of the source (which must be fully
 * loaded), for 3D rendering; the source volume itself stays full resolution for MPR.
 */
export async function downsampledVolume(source: Types.IImageVolume, f: [number, number, number]): Promise<Types.IImageVolume> {
  const [nx, ny, nz] = source.dimensions;
  // No loader scheme ("scheme:") in the id: this volume is made here, not loaded.
  const volumeId = `downsampled-${f.join('x')}-${source.volumeId.replace(/^.*:/, '')}`;
  const existing = cache.getVolume(volumeId);
  if (existing) return existing; // before the averaging, not after it
  const [mx, my, mz] = [Math.floor(nx / f[0]), Math.floor(ny / f[1]), Math.floor(nz / f[2])];
  const slices = await volumeSlices(source);
  const out = new Float32Array(mx * my * mz);
  const n = f[0] * f[1] * f[2];
  for (let z = 0; z < mz; z++) {
    for (let y = 0; y < my; y++) {
      for (let x = 0; x < mx; x++) {
        let sum = 0;
        for (let dz = 0; dz < f[2]; dz++) {
          for (let dy = 0; dy < f[1]; dy++) {
            const slice = slices[z * f[2] + dz];
            const row = (y * f[1] + dy) * nx + x * f[0];
            for (let dx = 0; dx < f[0]; dx++) sum += slice[row + dx];
          }
        }
        out[(z * my + y) * mx + x] = sum / n;
      }
    }
  }
  const d = source.direction;
  // The first sample's centre moves by half a block minus half a voxel along each axis.
  const shift = [0, 1, 2].map((a) => ((f[a] - 1) / 2) * source.spacing[a]);
  const origin = [0, 1, 2].map((k) => source.origin[k] + shift[0] * d[k] + shift[1] * d[3 + k] + shift[2] * d[6 + k]) as Types.Point3;
  return uploaded(
    volumeLoader.createLocalVolume(volumeId, {
      metadata: source.metadata,
      dimensions: [mx, my, mz],
      spacing: [source.spacing[0] * f[0], source.spacing[1] * f[1], source.spacing[2] * f[2]],
      origin,
      direction: source.direction,
      scalarData: sameType(slices, out),
    }),
  );
}

/**
 * The pixel data of every slice of a loaded volume, in the volume's order. Not the voxel
 * manager's getCompleteScalarDataArray(): it takes its array type from slice 0's image in
 * the cache and, when that image is not there (seen: "Image not found" for it after a
 * 1,000-slice series had streamed into its texture), returns an empty array, which made the
 * downsampled copy all NaN and its 3D view black. A slice missing from the cache is loaded
 * again; one that cannot be is an error the page shows.
 */
async function volumeSlices(v: Types.IImageVolume): Promise<ArrayLike<number>[]> {
  const [nx, ny, nz] = v.dimensions;
  const ids = v.imageIds ?? [];
  if (ids.length !== nz) throw new VolumeGeometryError(`the volume has ${nz} slices but ${ids.length} images`);
  const out: ArrayLike<number>[] = [];
  for (const id of ids) {
    const image = cache.getImage(id) ?? (await imageLoader.loadAndCacheImage(id));
    const data = (image.voxelManager?.getScalarData() ?? image.getPixelData()) as ArrayLike<number>;
    if (data.length !== nx * ny) throw new VolumeGeometryError(`slice ${out.length + 1} has ${data.length} pixels, not ${nx} x ${ny}`);
    out.push(data);
  }
  return out;
}

/**
 * The voxel values of a loaded volume in parts: its slices (volumeSlices()), or, for a
 * local volume without an image per slice, its own array as the one part. Checked for size:
 * never the empty array getCompleteScalarDataArray() can give (see volumeSlices()).
 */
export async function volumeParts(v: Types.IImageVolume): Promise<ArrayLike<number>[]> {
  const [nx, ny, nz] = v.dimensions;
  if ((v.imageIds?.length ?? 0) === nz) return volumeSlices(v);
  const all = v.voxelManager?.getCompleteScalarDataArray?.();
  if (!all || all.length !== nx * ny * nz) throw new VolumeGeometryError(`the volume holds ${all?.length ?? 0} voxel values, not ${nx} x ${ny} x ${nz}`);
  return [all];
}

/** The voxel values of a loaded volume in one array of their type (volumeParts() joined). */
export async function volumeScalars(v: Types.IImageVolume): Promise<ArrayLike<number>> {
  const parts = await volumeParts(v);
  return parts.length === 1 ? parts[0] : joined(parts);
}

/** Slices one after the other in one array of their common type (commonType()). */
function joined(slices: ArrayLike<number>[]): ArrayLike<number> {
  const T = commonType(slices);
  const n = slices[0]?.length ?? 0;
  const out = new T(n * slices.length);
  slices.forEach((s, k) => out.set(s, k * n));
  return out;
}

type Scalars = Int8Array | Uint8Array | Int16Array | Uint16Array | Float32Array;
type ScalarsType = new (n: number) => Scalars;

/**
 * The array type of every slice, or Float32Array when they differ: a slice loaded again on
 * its own comes back in the smallest type its values fit (seen: Uint8Array for a slice
 * holding 0..200 of a volume in Int16Array), which would clip the others.
 */
function commonType(slices: ArrayLike<number>[]): ScalarsType {
  const types = new Set(slices.map((s) => (s as unknown as { constructor: ScalarsType }).constructor));
  const [only] = types;
  return types.size === 1 && [Int8Array, Uint8Array, Int16Array, Uint16Array, Float32Array].includes(only as never) ? only : Float32Array;
}

/**
 * `values` in the slices' common array type (rounded for integer types): a local volume in the
 * source's own type takes half the texture memory of Float32 for a 16-bit CT, and gets the
 * texture format the source's planes render with.
 */
function sameType(slices: ArrayLike<number>[], values: Float32Array): Scalars {
  const like = commonType(slices);
  for (const T of [Int16Array, Uint16Array, Int8Array, Uint8Array]) {
    if (like === T) {
      const out = new T(values.length);
      for (let i = 0; i < values.length; i++) out[i] = Math.round(values[i]);
      return out;
    }
  }
  return values;
}

/**
 * A local volume with every slice marked for upload to its texture. Cornerstone uploads
 * only marked slices (a streaming volume marks each as it loads); the actor's set-up was
 * seen marking a local volume's too, this does not depend on it.
 */
export function uploaded(volume: Types.IImageVolume): Types.IImageVolume {
  (volume as unknown as { invalidate(): void }).invalidate();
  return volume;
}
