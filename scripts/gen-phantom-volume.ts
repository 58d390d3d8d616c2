// A synthetic CT volume of known geometry for the 3D viewer's tests: water (0 HU) with
// spheres and an oblique cylinder at known positions (patient LPS, mm) and HU. The
// series is written by gen-test-data's CT writer (real geometry, new UIDs) and its pixel
// data (the last element of each file, uncompressed Int16) replaced by this phantom.
//
// With a gantry tilt, each slice's plane is shifted along y by z * tan(tilt) and its
// pixels are the phantom at the shifted positions: a tilted acquisition of the same objects.
//
// CLI: npx tsx scripts/gen-phantom-volume.ts --dir test-data/phantom [--count 161] [--size 256] [--tilt 15]
import * as fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { CT_RESCALE_INTERCEPT, tiltShiftY, writeCtSeries, type CtSeriesResult } from './gen-test-data.js';

export interface Sphere {
  center: [number, number, number];
  radius: number;
  hu: number;
}
export interface Cylinder {
  /** A point on the axis. */
  point: [number, number, number];
  /** Unit direction of the axis. */
  axis: [number, number, number];
  radius: number;
  hu: number;
}

export interface PhantomVolume {
  /** Slices along z from z = 0, 1 mm pixels centred on x = y = 0. */
  count: number;
  size: number;
  pixelSpacing: number;
  sliceSpacing: number;
  backgroundHu: number;
  spheres: { large: Sphere; medium: Sphere; brightest: Sphere };
  cylinder: Cylinder;
}

/** The phantom for `count` slices of `size` x `size`, 1 mm apart; structures about the middle slice. */
export function phantomVolume(count = 161, size = 256): PhantomVolume {
  const zc = Math.floor((count - 1) / 2);
  const s30 = Math.sin(Math.PI / 6);
  const c30 = Math.cos(Math.PI / 6);
  const c45 = Math.SQRT1_2;
  return {
    count,
    size,
    pixelSpacing: 1,
    sliceSpacing: 1,
    backgroundHu: 0,
    spheres: {
      // In the middle slice, patient right-anterior.
      large: { center: [-50, -40, zc], radius: 20, hu: 1000 },
      medium: { center: [50, 40, zc], radius: 15, hu: 300 },
      // 20 mm above the middle slice: only a slab reaching it shows it.
      brightest: { center: [-50, 50, zc + 20], radius: 6, hu: 2000 },
    },
    // Tilted 30° from z towards (x + y): in no axial, sagittal or coronal plane.
    cylinder: { point: [40, -50, zc], axis: [s30 * c45, s30 * c45, c30], radius: 8, hu: 200 },
  };
}

/** HU at a point (the structures do not overlap; a later one wins if they did). */
export function phantomHu(p: PhantomVolume, x: number, y: number, z: number): number {
  let hu = p.backgroundHu;
  const c = p.cylinder;
  const d = [x - c.point[0], y - c.point[1], z - c.point[2]];
  const t = d[0] * c.axis[0] + d[1] * c.axis[1] + d[2] * c.axis[2];
  const perp2 = d[0] ** 2 + d[1] ** 2 + d[2] ** 2 - t * t;
  if (perp2 <= c.radius * c.radius) hu = c.hu;
  for (const s of Object.values(p.spheres)) {
    if ((x - s.center[0]) ** 2 + (y - s.center[1]) ** 2 + (z - s.center[2]) ** 2 <= s.radius ** 2) hu = s.hu;
  }
  return hu;
}

/** x, y (mm) of pixel (row, col): centred on 0, rows along +y, columns along +x. */
export function phantomPixelPosition(p: PhantomVolume, row: number, col: number): { x: number; y: number } {
  return { x: (col - (p.size - 1) / 2) * p.pixelSpacing, y: (row - (p.size - 1) / 2) * p.pixelSpacing };
}

export async function writePhantomVolume(o: {
  dir: string;
  count?: number;
  size?: number;
  studyUid?: string;
  patientId?: string;
  gantryTiltDegrees?: number;
  seriesDescription?: string;
}): Promise<CtSeriesResult & { volume: PhantomVolume }> {
  const volume = phantomVolume(o.count, o.size);
  const series = await writeCtSeries({
    dir: o.dir,
    count: volume.count,
    rows: volume.size,
    cols: volume.size,
    fovMm: volume.size * volume.pixelSpacing,
    sliceThickness: volume.sliceSpacing,
    seriesDescription: o.seriesDescription ?? 'Phantom volume: spheres and a cylinder',
    studyUid: o.studyUid,
    gantryTiltDegrees: o.gantryTiltDegrees,
    patientId: o.patientId,
  });
  if (series.phantom.pixelSpacing !== volume.pixelSpacing) throw new Error(`unexpected pixel spacing ${series.phantom.pixelSpacing}`);
  const pixels = Buffer.alloc(volume.size * volume.size * 2);
  for (const [k, file] of series.files.entries()) {
    const z = series.phantom.firstZ + k * volume.sliceSpacing;
    const shift = tiltShiftY(z, o.gantryTiltDegrees);
    for (let r = 0; r < volume.size; r++) {
      for (let c = 0; c < volume.size; c++) {
        const { x, y } = phantomPixelPosition(volume, r, c);
        pixels.writeInt16LE(phantomHu(volume, x, y + shift, z) - CT_RESCALE_INTERCEPT, (r * volume.size + c) * 2);
      }
    }
    // The pixel data is the file's last element: overwrite its value in place.
    const fd = fs.openSync(file, 'r+');
    try {
      const size = fs.fstatSync(fd).size;
      fs.writeSync(fd, pixels, 0, pixels.length, size - pixels.length);
    } finally {
      fs.closeSync(fd);
    }
  }
  return { ...series, volume };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { dir: { type: 'string' }, count: { type: 'string' }, size: { type: 'string' }, tilt: { type: 'string' } } });
  if (!values.dir) throw new Error('--dir is required');
  const n = (v?: string) => (v ? Number(v) : undefined);
  const r = await writePhantomVolume({ dir: values.dir, count: n(values.count), size: n(values.size), gantryTiltDegrees: n(values.tilt) });
  console.log(`${r.files.length} slices in ${values.dir}: study ${r.studyUid}, series ${r.seriesUid}`);
}
