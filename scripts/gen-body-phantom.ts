// A small CT "body" for the 3D view's presets: a soft-tissue cylinder (40 HU) in air, a
// lung (-800 HU) inside it, a contrast-filled vessel (a 300 HU rod running the whole
// length, head to foot, so it meets the volume's top and bottom faces) and a bone sphere
// (1,000 HU) wholly inside. Each preset is checked on what it must show: bone and
// contrast in VRT bone, the lung in VRT lung, the vessel in angio, and nothing of the
// soft tissue in front of them. The same body as an MR angiogram (the vessel the one bright
// structure) for the MR angio preset. Small (128 x 128 x 64 at 2 mm) for software WebGL.
//
// The series is written by gen-test-data's CT writer (real geometry, new UIDs) and its
// pixel data (each file's last element, uncompressed Int16) replaced by this body.
//
// CLI: npx tsx scripts/gen-body-phantom.ts --dir test-data/body [--mr]
import * as fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { CT_RESCALE_INTERCEPT, writeCtSeries, type CtSeriesResult } from './gen-test-data.js';

type Point3 = [number, number, number];

export interface BodyPhantom {
  size: number;
  count: number;
  /** mm, rows and columns. */
  pixelSpacing: number;
  /** mm between slices (z from 0). */
  sliceSpacing: number;
  airHu: number;
  body: { radius: number; hu: number };
  /** A cylinder along z from z0 to z1. */
  lung: { x: number; y: number; radius: number; z0: number; z1: number; hu: number };
  /** A cylinder along z through every slice. */
  vessel: { x: number; y: number; radius: number; hu: number };
  sphere: { center: Point3; radius: number; hu: number };
}

export function bodyPhantom(): BodyPhantom {
  const count = 64;
  const sliceSpacing = 2;
  const zc = ((count - 1) * sliceSpacing) / 2;
  return {
    size: 128,
    count,
    pixelSpacing: 2,
    sliceSpacing,
    airHu: -1000,
    body: { radius: 110, hu: 40 },
    // Anterior (-y in LPS), between the vessel and the sphere as seen from the front.
    lung: { x: 0, y: -50, radius: 25, z0: zc - 40, z1: zc + 40, hu: -800 },
    // Patient's left (+x), posterior.
    vessel: { x: 45, y: 30, radius: 8, hu: 300 },
    // Patient's right (-x), posterior.
    sphere: { center: [-45, 30, zc], radius: 20, hu: 1000 },
  };
}

/** HU at a point (mm, LPS). */
export function bodyHu(p: BodyPhantom, x: number, y: number, z: number): number {
  const { sphere: s, vessel: v, lung: l } = p;
  if ((x - s.center[0]) ** 2 + (y - s.center[1]) ** 2 + (z - s.center[2]) ** 2 <= s.radius ** 2) return s.hu;
  if ((x - v.x) ** 2 + (y - v.y) ** 2 <= v.radius ** 2) return v.hu;
  if ((x - l.x) ** 2 + (y - l.y) ** 2 <= l.radius ** 2 && z >= l.z0 && z <= l.z1) return l.hu;
  if (x * x + y * y <= p.body.radius ** 2) return p.body.hu;
  return p.airHu;
}

/**
 * MR angiography of the same body (stored values, no rescale): the vessel bright (flow),
 * stationary tissue grey, air, lung and bone without signal.
 */
export const MR_ANGIO = { vessel: 1000, tissue: 200, noSignal: 0 } as const;

/**
 * The body as a CT (HU) or, with `mrAngio`, as an MR angiogram: the same geometry, the
 * vessel the one bright structure.
 */
export async function writeBodyPhantom(o: { dir: string; studyUid?: string; mrAngio?: boolean }): Promise<CtSeriesResult & { body: BodyPhantom }> {
  const body = bodyPhantom();
  const value = o.mrAngio
    ? (x: number, y: number, z: number) => {
        const hu = bodyHu(body, x, y, z);
        return hu === body.vessel.hu ? MR_ANGIO.vessel : hu === body.body.hu ? MR_ANGIO.tissue : MR_ANGIO.noSignal;
      }
    : (x: number, y: number, z: number) => bodyHu(body, x, y, z) - CT_RESCALE_INTERCEPT;
  const series = await writeCtSeries({
    modality: o.mrAngio ? 'MR' : 'CT',
    dir: o.dir,
    count: body.count,
    rows: body.size,
    cols: body.size,
    fovMm: body.size * body.pixelSpacing,
    sliceThickness: body.sliceSpacing,
    seriesDescription: o.mrAngio ? 'Body phantom: MR angiography' : 'Body phantom: lung, vessel, bone',
    studyUid: o.studyUid,
  });
  if (series.phantom.pixelSpacing !== body.pixelSpacing) throw new Error(`unexpected pixel spacing ${series.phantom.pixelSpacing}`);
  const pixels = Buffer.alloc(body.size * body.size * 2);
  for (const [k, file] of series.files.entries()) {
    const z = series.phantom.firstZ + k * body.sliceSpacing;
    for (let r = 0; r < body.size; r++) {
      for (let c = 0; c < body.size; c++) {
        const x = (c - (body.size - 1) / 2) * body.pixelSpacing;
        const y = (r - (body.size - 1) / 2) * body.pixelSpacing;
        pixels.writeInt16LE(value(x, y, z), (r * body.size + c) * 2);
      }
    }
    // The pixel data is the file's last element: overwrite its value in place.
    const fd = fs.openSync(file, 'r+');
    try {
      fs.writeSync(fd, pixels, 0, pixels.length, fs.fstatSync(fd).size - pixels.length);
    } finally {
      fs.closeSync(fd);
    }
  }
  return { ...series, body };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { dir: { type: 'string' }, mr: { type: 'boolean' } } });
  if (!values.dir) throw new Error('--dir is required');
  const r = await writeBodyPhantom({ dir: values.dir, mrAngio: values.mr });
  console.log(`${r.files.length} slices in ${values.dir}: study ${r.studyUid}, series ${r.seriesUid}`);
}
