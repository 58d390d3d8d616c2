/**
 * The viewer's MPR / 3D layout (/viewer?...&mode=mpr) in headless chromium with software
 * WebGL against `pacs serve`: a phantom volume (water with spheres and an oblique
 * cylinder at known positions and HU, scripts/gen-phantom-volume.ts) stored with
 * storescu. Checked on the rendered pixels, at canvas positions computed from the known
 * geometry: the sagittal and coronal planes show the spheres where they are; an oblique
 * plane through the cylinder's axis (crosshairs rotated) shows a band of its diameter; a
 * MIP slab shows the brightest sphere only once thick enough to reach it; the SSD at a
 * threshold between water and bone shows the large sphere's silhouette at its diameter;
 * a curved MPR clicked along the cylinder's axis (in the axial and coronal planes)
 * straightens it into a band of its diameter in every row, its cross-section a disc;
 * a series with a missing slice is refused with a message naming it.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writePhantomVolume, type PhantomVolume } from '../../scripts/gen-phantom-volume.js';
import { writeCtSeries, type CtSeriesResult } from '../../scripts/gen-test-data.js';
import { REPO_ROOT, startPacsServe, stopAllPeers, storescu } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { launchChromiumWithWebGL } from './browser.js';
import { settledRead } from './settled.js';

type Point3 = [number, number, number];
// The page's test hook (window.__viewer3d), typed as far as these tests use it (no DOM lib here).
interface CanvasLike {
  width: number;
  height: number;
  getContext(type: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
  getBoundingClientRect(): { left: number; top: number; width: number; height: number };
}
interface CameraLike {
  focalPoint: Point3;
  position: Point3;
  viewPlaneNormal: Point3;
  viewUp: Point3;
  parallelProjection?: boolean;
  parallelScale?: number;
}
interface VolumeViewportLike {
  element: { addEventListener(type: string, listener: () => void, options?: { once: boolean }): void };
  canvas: CanvasLike;
  worldToCanvas(world: Point3): [number, number];
  canvasToWorld(canvas: [number, number]): Point3;
  getCamera(): CameraLike;
  setCamera(c: Partial<CameraLike>): void;
  render(): void;
  resetCamera(): void;
}
interface ReformatLike {
  rows: number;
  columns: number;
  rowSpacing: number;
  columnSpacing: number;
}
interface CurvedLike {
  points: Point3[];
  frames?: { length: number; step: number };
  straight?: ReformatLike;
  section?: ReformatLike;
  arc: number;
  lastMs: number;
}
interface PageLike {
  curved: CurvedLike;
  series?: { volume: { dimensions: Point3; spacing: Point3 }; imageIds: string[] };
  volume3d?: { dimensions: Point3 };
  downsample: Point3;
  timings: Record<string, number>;
  renderer?: { triangles: number };
  tf?: { points: Array<{ x: number; y: number }>; toCanvas(p: { x: number; y: number }): [number, number]; canvas: CanvasLike };
  viewport(id: string): VolumeViewportLike;
  setWindow(center: number, width: number): void;
  setSlab(mode: string, thickness: number): void;
  render3d(mode: { kind: 'ssd'; threshold: number } | { kind: 'vrt'; preset: string } | { kind: 'mip'; lower: number; upper: number }): Promise<void>;
}
interface CrosshairsAnnotationLike {
  data: { handles: { rotationPoints: Array<[Point3, { id: string }]>; toolCenter: Point3 } };
}
interface MeasurementLike {
  data: { handles: { points: Point3[] }; cachedStats: Record<string, { length?: number; mean?: number; stdDev?: number; area?: number }> };
}
interface Hook {
  ready: boolean;
  error?: string;
  page: PageLike;
  core: { cache: { removeImageLoadObject(imageId: string): void; getImage(imageId: string): unknown } };
  tools: { annotation: { state: { getAnnotations(toolName: string, element: unknown): Array<CrosshairsAnnotationLike & MeasurementLike> } } };
}
declare const window: { __viewer3d?: Hook };
declare const document: {
  querySelector(selector: string): (CanvasLike & { value: string; dispatchEvent(e: unknown): boolean }) | null;
  querySelectorAll(selector: string): { length: number };
};
declare const Event: new (type: string) => unknown;
declare function requestAnimationFrame(callback: () => void): number;

let browser: Browser;
let page: Page;
let base: string;
let phantom: CtSeriesResult & { volume: PhantomVolume };
let gappy: CtSeriesResult; // 12 slices of 1.25 mm with the sixth (z = 6.25 mm) not stored
let tilted: CtSeriesResult & { volume: PhantomVolume }; // the phantom acquired with 15° of gantry tilt
const TILT = 15;

/** Two animation frames of the page. */
const frames = () => page.evaluate(() => new Promise<void>((done) => requestAnimationFrame(() => requestAnimationFrame(() => done()))));

/** Grey levels (mean of R, G, B) of viewport `id`'s canvas at canvas points (CSS px). */
function greyAt(id: string, points: Array<[number, number]>): Promise<number[]> {
  return page.evaluate(
    ({ id, points }) => {
      const vp = window.__viewer3d!.page.viewport(id);
      const canvas = vp.canvas;
      const ratio = canvas.width / canvas.getBoundingClientRect().width;
      const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
      return points.map(([x, y]) => {
        const px = Math.round(x * ratio);
        const py = Math.round(y * ratio);
        if (px < 0 || py < 0 || px >= canvas.width || py >= canvas.height) return -1;
        const o = (py * canvas.width + px) * 4;
        return (data[o] + data[o + 1] + data[o + 2]) / 3;
      });
    },
    { id, points },
  );
}

/** Grey levels of viewport `id` at world points (mm). */
async function greyAtWorld(id: string, worlds: Point3[]): Promise<number[]> {
  const canvasPoints = await page.evaluate(({ id, worlds }) => worlds.map((w) => window.__viewer3d!.page.viewport(id).worldToCanvas(w)), { id, worlds });
  return greyAt(id, canvasPoints);
}

/** Page coordinates of a world point in viewport `id`. */
function pagePoint(id: string, world: Point3): Promise<{ x: number; y: number }> {
  return page.evaluate(
    ({ id, w }) => {
      const vp = window.__viewer3d!.page.viewport(id);
      const [cx, cy] = vp.worldToCanvas(w);
      const r = vp.canvas.getBoundingClientRect();
      return { x: r.left + cx, y: r.top + cy };
    },
    { id, w: world },
  );
}

/** Renders the viewports and waits until each has drawn a frame. */
function rendered(ids: string[]): Promise<void> {
  return page.evaluate(
    (ids) =>
      Promise.all(
        ids.map((id) => {
          const vp = window.__viewer3d!.page.viewport(id);
          const done = new Promise<void>((resolve) => vp.element.addEventListener('CORNERSTONE_IMAGE_RENDERED', () => resolve(), { once: true }));
          vp.render();
          return done;
        }),
      ).then(() => undefined),
    ids,
  );
}
const MPR = ['axial', 'sagittal', 'coronal'];

const focal = (id: string) => page.evaluate((id) => window.__viewer3d!.page.viewport(id).getCamera().focalPoint, id);

const add = (a: Point3, b: Point3, k = 1): Point3 => [a[0] + k * b[0], a[1] + k * b[1], a[2] + k * b[2]];

/**
 * Length (mm) of the bright run through `center` along the unit direction `dir` in
 * viewport `id`, sampled every 0.25 mm up to `reach` mm each way.
 */
async function brightRun(id: string, center: Point3, dir: Point3, reach: number, level = 128): Promise<{ from: number; to: number; length: number }> {
  const step = 0.25;
  const offsets: number[] = [];
  for (let t = -reach; t <= reach; t += step) offsets.push(t);
  const grey = await greyAtWorld(
    id,
    offsets.map((t) => add(center, dir, t)),
  );
  const mid = offsets.findIndex((t) => Math.abs(t) < step / 2);
  if (grey[mid] < level) return { from: 0, to: 0, length: 0 };
  let lo = mid;
  let hi = mid;
  while (lo > 0 && grey[lo - 1] >= level) lo--;
  while (hi < grey.length - 1 && grey[hi + 1] >= level) hi++;
  return { from: offsets[lo] - step / 2, to: offsets[hi] + step / 2, length: offsets[hi] - offsets[lo] + step };
}

async function drag(from: { x: number; y: number }, to: { x: number; y: number }, steps = 10): Promise<void> {
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await frames();
  for (let k = 1; k <= steps; k++) await page.mouse.move(from.x + ((to.x - from.x) * k) / steps, from.y + ((to.y - from.y) * k) / steps);
  await frames();
  await page.mouse.up();
  await frames();
}

/**
 * Opens the MPR layout in a fresh browser, logged in: a page still rendering its 3D view in
 * software WebGL keeps the browser's GPU process busy for minutes on a busy 2-core machine,
 * even once closed, and the next page in the same browser then never got ready. Closing the
 * old browser ends that work.
 */
async function openMpr(studyUid: string, extra = ''): Promise<void> {
  const old = browser;
  browser = await launchChromiumWithWebGL();
  void old.close().catch(() => undefined);
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const login = await context.request.post(`${base}/api/login`, { data: { user: 'admin', password: 'e2e-password' } });
  expect(login.ok(), await login.text()).toBe(true);
  page = await context.newPage();
  watch(page);
  await page.goto(`${base}/viewer?StudyInstanceUIDs=${studyUid}&mode=mpr${extra}`, { timeout: 120_000 });
  await page.waitForFunction(() => window.__viewer3d?.ready === true, null, { timeout: 300_000 });
}

function watch(p: Page): void {
  p.on('pageerror', (e) => console.error('page error:', e.message));
  p.on('console', (m) => m.type() === 'error' && console.error('console:', m.text()));
}

beforeAll(async () => {
  const dir = await makeTempDir('pacs-viewer3d-e2e-');
  await build({ root: join(REPO_ROOT, 'ui'), logLevel: 'warn' });
  phantom = await writePhantomVolume({ dir: join(dir, 'phantom') });
  const { pacs, base: web } = await startPacsServe(join(dir, 'pacs'), 'e2e-password');
  gappy = await writeCtSeries({ dir: join(dir, 'gappy'), count: 12, rows: 64, cols: 64, seriesDescription: 'missing slice' });
  tilted = await writePhantomVolume({ dir: join(dir, 'tilted'), count: 121, gantryTiltDegrees: TILT, seriesDescription: 'tilted phantom' });
  const stored = await storescu({ port: pacs.port, calledAet: pacs.aet, files: [...phantom.files, ...gappy.files.filter((_, k) => k !== 5), ...tilted.files] });
  expect(stored.code, stored.stderr).toBe(0);
  base = web;
  browser = await launchChromiumWithWebGL();
  // One context for the pages: openMpr opens fresh pages logged in with its cookie.
  page = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
  watch(page);
  await page.goto(`${base}/viewer?StudyInstanceUIDs=${phantom.studyUid}&mode=mpr`, { timeout: 180_000 });
  await page.fill('#login-password', 'e2e-password');
  await page.click('#login-form button[type=submit]');
  await page.waitForFunction(() => window.__viewer3d?.ready === true, null, { timeout: 180_000 });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stopAllPeers();
  await removeTempDirs();
});

describe('viewer MPR / 3D', () => {
  it('builds the volume from the series and renders the three planes and 3D', async () => {
    const state = await page.evaluate(() => {
      const h = window.__viewer3d!;
      return {
        error: h.error,
        dims: h.page.series?.volume.dimensions,
        spacing: h.page.series?.volume.spacing,
        downsample: h.page.downsample,
        timings: h.page.timings,
      };
    });
    expect(state.error).toBeUndefined();
    expect(state.dims).toEqual([256, 256, 161]);
    expect(state.spacing!.map((s) => Number(s.toFixed(3)))).toEqual([1, 1, 1]);
    expect(state.downsample).toEqual([1, 1, 1]);
    console.log('phantom timings (ms since page start):', JSON.stringify(state.timings));
  }, 240_000);

  it('moves the sagittal and coronal planes to a point clicked with the crosshairs, where they show the sphere', async () => {
    const { large } = phantom.volume.spheres;
    expect(await page.getAttribute('#toolbar button[data-tool="Crosshairs"]', 'class')).toContain('active');
    const at = await pagePoint('axial', large.center);
    await page.mouse.click(at.x, at.y);
    // Mouse events land on whole CSS pixels and the planes on voxel centres: within a millimetre.
    await expect.poll(async () => Math.abs((await focal('sagittal'))[0] - large.center[0]), { timeout: 30_000 }).toBeLessThan(1);
    expect(Math.abs((await focal('coronal'))[1] - large.center[1])).toBeLessThan(1);
    // Only bone (1000 HU) white: window 500 +- 1.
    await page.evaluate(() => window.__viewer3d!.page.setWindow(500, 2));
    await rendered(MPR);
    const r = large.radius;
    for (const [id, dirs] of [
      [
        'sagittal',
        [
          [0, 1, 0],
          [0, 0, 1],
        ],
      ],
      [
        'coronal',
        [
          [1, 0, 0],
          [0, 0, 1],
        ],
      ],
    ] as Array<[string, Point3[]]>) {
      for (const dir of dirs) {
        const run = await brightRun(id, large.center, dir, r + 15);
        // Centred on the known centre, as long as the diameter (1 mm voxels: within 1.5 mm).
        expect(Math.abs(run.from + r), `${id} ${dir}: ${JSON.stringify(run)}`).toBeLessThan(1.5);
        expect(Math.abs(run.to - r), `${id} ${dir}: ${JSON.stringify(run)}`).toBeLessThan(1.5);
      }
    }
    // The medium sphere (300 HU) is in the axial plane but under the window: black there.
    const [medium] = await greyAtWorld('axial', [phantom.volume.spheres.medium.center]);
    expect(medium).toBeLessThan(20);
    const [bone] = await greyAtWorld('axial', [large.center]);
    expect(bone).toBeGreaterThan(200);
  }, 240_000);

  it('shows the oblique cylinder as a band of its diameter on a plane rotated through its axis', async () => {
    const c = phantom.volume.cylinder;
    // Crosshairs centre on the axis, then the lines rotated in the axial plane by dragging
    // the sagittal line's rotation handle until it runs along the axis' projection (x = y).
    const at = await pagePoint('axial', c.point);
    await page.mouse.click(at.x, at.y);
    await expect.poll(async () => Math.abs((await focal('sagittal'))[0] - c.point[0]), { timeout: 30_000 }).toBeLessThan(1);
    // The rotation handles are placed when the crosshairs draw: wait for them about the new centre.
    await rendered(MPR);
    const readHandle = () =>
      page.evaluate(() => {
        const h = window.__viewer3d!;
        const element = h.page.viewport('axial').element;
        const [annotation] = h.tools.annotation.state.getAnnotations('Crosshairs', element);
        const p = annotation?.data.handles.rotationPoints.find(([, vp]) => vp.id === 'sagittal');
        return { point: p?.[0] ?? [NaN, NaN, NaN], center: annotation?.data.handles.toolCenter ?? [NaN, NaN, NaN] };
      });
    await expect
      .poll(
        async () => {
          const { point, center } = await readHandle();
          return Math.abs(point[0] - center[0]) < 0.5 && Math.abs(center[0] - c.point[0]) < 1 && Math.abs(center[1] - c.point[1]) < 1;
        },
        { timeout: 60_000 },
      )
      .toBe(true);
    const handle = await readHandle();
    const v: Point3 = [handle.point[0] - handle.center[0], handle.point[1] - handle.center[1], 0];
    const len = Math.hypot(v[0], v[1]);
    const sign = v[0] + v[1] >= 0 ? 1 : -1;
    const target: Point3 = [handle.center[0] + (sign * len) / Math.SQRT2, handle.center[1] + (sign * len) / Math.SQRT2, handle.center[2]];
    // Along the arc: the tool follows the angle of the pointer about the centre.
    const from = Math.atan2(v[1], v[0]);
    const to = Math.atan2(target[1] - handle.center[1], target[0] - handle.center[0]);
    let delta = to - from;
    if (delta > Math.PI) delta -= 2 * Math.PI;
    if (delta < -Math.PI) delta += 2 * Math.PI;
    const start = await pagePoint('axial', handle.point);
    await page.mouse.move(start.x - 3, start.y - 3);
    await page.mouse.move(start.x, start.y, { steps: 3 });
    await frames();
    await page.mouse.down();
    await frames();
    for (let k = 1; k <= 12; k++) {
      const a = from + (delta * k) / 12;
      const p = await pagePoint('axial', [handle.center[0] + len * Math.cos(a), handle.center[1] + len * Math.sin(a), handle.center[2]]);
      await page.mouse.move(p.x, p.y);
    }
    await frames();
    await page.mouse.up();
    await frames();
    const { viewPlaneNormal: normal, focalPoint } = await page.evaluate(() => window.__viewer3d!.page.viewport('sagittal').getCamera());
    // The plane now holds z and (1, 1, 0): its normal is +-(1, -1, 0)/sqrt(2), within a degree.
    expect(Math.abs(normal[0] * c.axis[0] + normal[1] * c.axis[1] + normal[2] * c.axis[2]), JSON.stringify(normal)).toBeLessThan(0.02);
    expect(Math.abs(normal[2])).toBeLessThan(0.02);
    await page.evaluate(() => window.__viewer3d!.page.setWindow(100, 2)); // cylinder 200 HU white, water black
    await rendered(MPR);
    const n = normal;
    const u = c.axis;
    const w: Point3 = [n[1] * u[2] - n[2] * u[1], n[2] * u[0] - n[0] * u[2], n[0] * u[1] - n[1] * u[0]];
    const wl = Math.hypot(...w);
    const across: Point3 = [w[0] / wl, w[1] / wl, w[2] / wl];
    // The plane passes within a millimetre of the axis (the centre snapped to a voxel):
    // sample on the plane, at the axis' foot on it.
    const offset = n[0] * (c.point[0] - focalPoint[0]) + n[1] * (c.point[1] - focalPoint[1]) + n[2] * (c.point[2] - focalPoint[2]);
    expect(Math.abs(offset)).toBeLessThan(1);
    const foot = add(c.point, n, -offset);
    const expected = 2 * Math.sqrt(c.radius ** 2 - offset ** 2);
    for (const t of [-30, 0, 30]) {
      const onAxis = add(foot, u, t);
      const band = await brightRun('sagittal', onAxis, across, 20);
      expect(Math.abs(band.length - expected), `at ${t} mm: ${JSON.stringify(band)}`).toBeLessThan(1.5);
      expect(Math.abs(band.from + expected / 2)).toBeLessThan(1.5);
    }
    // Along the axis the band runs on (60 mm checked).
    const along = await brightRun('sagittal', foot, u, 30);
    expect(along.length).toBeGreaterThan(59);
  }, 240_000);

  it('shows the brightest sphere in a MIP slab thick enough to reach it, and averages and MinIPs', async () => {
    const { brightest, large } = phantom.volume.spheres;
    const inPlane: Point3 = [brightest.center[0], brightest.center[1], large.center[2]]; // 20 mm below its centre
    await page.evaluate(() => window.__viewer3d!.page.setWindow(1500, 2)); // only the 2000 HU sphere white
    await page.evaluate(() => window.__viewer3d!.page.setSlab('none', 0));
    await rendered(MPR);
    expect((await greyAtWorld('axial', [inPlane]))[0]).toBeLessThan(20);
    // +-10 mm does not reach it (it spans 14..26 mm above the plane), +-25 mm does.
    await page.evaluate(() => window.__viewer3d!.page.setSlab('mip', 20));
    await rendered(MPR);
    expect((await greyAtWorld('axial', [inPlane]))[0]).toBeLessThan(20);
    await page.evaluate(() => window.__viewer3d!.page.setSlab('mip', 50));
    await rendered(MPR);
    const disc = await brightRun('axial', inPlane, [1, 0, 0], 15);
    expect(Math.abs(disc.length - 2 * brightest.radius), JSON.stringify(disc)).toBeLessThan(1.5);
    // The large sphere (1000 HU) is under this window even in the MIP.
    expect((await greyAtWorld('axial', [large.center]))[0]).toBeLessThan(20);
    // Average over 50 mm through the large sphere's centre: 40 mm of 1000 HU and 10 of water = 800.
    await page.evaluate(() => window.__viewer3d!.page.setWindow(700, 2));
    await page.evaluate(() => window.__viewer3d!.page.setSlab('average', 50));
    await rendered(MPR);
    expect((await greyAtWorld('axial', [large.center]))[0]).toBeGreaterThan(200);
    await page.evaluate(() => window.__viewer3d!.page.setWindow(900, 2));
    await rendered(MPR);
    expect((await greyAtWorld('axial', [large.center]))[0]).toBeLessThan(20);
    // MinIP over 50 mm reaches the water beyond the sphere: black; over 20 mm it stays in bone.
    await page.evaluate(() => window.__viewer3d!.page.setWindow(500, 2));
    await page.evaluate(() => window.__viewer3d!.page.setSlab('minip', 50));
    await rendered(MPR);
    expect((await greyAtWorld('axial', [large.center]))[0]).toBeLessThan(20);
    await page.evaluate(() => window.__viewer3d!.page.setSlab('minip', 20));
    await rendered(MPR);
    expect((await greyAtWorld('axial', [large.center]))[0]).toBeGreaterThan(200);
    await page.evaluate(() => window.__viewer3d!.page.setSlab('none', 0));
  }, 240_000);

  it("shows the SSD surface at a threshold between water and bone with the sphere's diameter", async () => {
    const { large } = phantom.volume.spheres;
    // Slice 0's image gone from the cache (as seen after a long series streamed in): the
    // voxel manager's complete array would be empty then; the surface reads every slice,
    // slice 0 loaded again (it comes back as Uint8Array, the others are Int16Array).
    expect(
      await page.evaluate(() => {
        const { core, page: p } = window.__viewer3d!;
        const first = p.series!.imageIds[0];
        core.cache.removeImageLoadObject(first);
        return core.cache.getImage(first) === undefined;
      }),
    ).toBe(true);
    await page.evaluate(() => window.__viewer3d!.page.render3d({ kind: 'ssd', threshold: 500 }));
    expect(await page.evaluate(() => window.__viewer3d!.page.renderer!.triangles)).toBeGreaterThan(1000);
    // Looking down the z axis (parallel projection): the sphere's silhouette is a disc of its diameter.
    await page.evaluate((center) => {
      const vp = window.__viewer3d!.page.viewport('volume3d');
      const cam = vp.getCamera();
      vp.setCamera({
        focalPoint: center,
        position: [center[0], center[1], center[2] + 500],
        viewUp: [0, -1, 0],
        parallelProjection: true,
        parallelScale: cam.parallelScale,
      });
    }, large.center);
    await rendered(['volume3d']);
    expect(await page.evaluate(() => window.__viewer3d!.page.viewport('volume3d').getCamera().parallelProjection)).toBe(true);
    for (const dir of [
      [1, 0, 0],
      [0, 1, 0],
    ] as Point3[]) {
      const run = await brightRun('volume3d', large.center, dir, large.radius + 10, 6);
      expect(Math.abs(run.length - 2 * large.radius), `${dir}: ${JSON.stringify(run)}`).toBeLessThan(2);
      expect(Math.abs(run.from + large.radius)).toBeLessThan(1.5);
    }
    // Above every value: no surface, and the viewport says so.
    await page.evaluate(() => window.__viewer3d!.page.render3d({ kind: 'ssd', threshold: 5000 }));
    await expect.poll(() => page.textContent('.viewport-cell[data-viewport="volume3d"] .viewport-message')).toMatch(/no surface at 5000/);
    // Back to volume rendering: the bone preset draws the spheres.
    await page.evaluate(() => window.__viewer3d!.page.render3d({ kind: 'vrt', preset: 'CT-Bone' }));
    await rendered(['volume3d']);
    const [vrt] = await greyAtWorld('volume3d', [large.center]);
    expect(vrt).toBeGreaterThan(20);
  }, 240_000);

  it('straightens the oblique cylinder along a curve clicked on its axis, its cross-section a disc of its diameter', async () => {
    const c = phantom.volume.cylinder;
    const onAxis = (z: number): Point3 => add(c.point, c.axis, (z - c.point[2]) / c.axis[2]);
    /** Moves plane `id` (along its normal) through `p`, as scrolling does. */
    const planeThrough = async (id: string, p: Point3) => {
      await page.evaluate(
        ({ id, p }) => {
          const vp = window.__viewer3d!.page.viewport(id);
          const { focalPoint: f, position, viewPlaneNormal: n } = vp.getCamera();
          const d = (p[0] - f[0]) * n[0] + (p[1] - f[1]) * n[1] + (p[2] - f[2]) * n[2];
          vp.setCamera({
            focalPoint: [f[0] + d * n[0], f[1] + d * n[1], f[2] + d * n[2]],
            position: [position[0] + d * n[0], position[1] + d * n[1], position[2] + d * n[2]],
          });
        },
        { id, p },
      );
      await rendered([id]);
    };
    await page.evaluate(() => window.__viewer3d!.page.setWindow(100, 2)); // cylinder (200 HU) white, water black
    // A mouse click on the button's centre: page.click waits for animation frames, which the
    // 3D view's first software-WebGL frame can hold up for minutes on a loaded machine.
    const press = async (selector: string) => {
      const box = (await page.locator(selector).boundingBox())!;
      await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    };
    await press('#toolbar button[data-tool="Curved"]');
    expect(await page.isVisible('#curved-panel')).toBe(true);
    expect(await page.textContent('#curved-message')).toMatch(/click points along the structure/);
    // One point is not a curve: said.
    const first = await pagePoint('axial', onAxis(c.point[2]));
    await page.mouse.click(first.x, first.y);
    await page.keyboard.press('Enter');
    expect(await page.textContent('#curved-message')).toMatch(/at least 2 distinct points; it has 1/);
    expect(await page.evaluate(() => window.__viewer3d!.page.curved.straight)).toBeUndefined();
    await press('#curved-clear');
    // Three points on the axis in axial planes 30 mm apart, the last one in a coronal plane, double-clicked.
    const zc = c.point[2];
    for (const z of [zc - 45, zc - 15, zc + 15]) {
      await planeThrough('axial', onAxis(z));
      const at = await pagePoint('axial', onAxis(z));
      await page.mouse.click(at.x, at.y);
    }
    await planeThrough('coronal', onAxis(zc + 45));
    const last = await pagePoint('coronal', onAxis(zc + 45));
    await page.mouse.dblclick(last.x, last.y);
    await page.waitForFunction(() => window.__viewer3d!.page.curved.straight !== undefined, null, { timeout: 60_000 });
    const curved = await page.evaluate(() => {
      const { points, frames, straight, section, lastMs } = window.__viewer3d!.page.curved;
      return { points, length: frames!.length, step: frames!.step, straight: straight!, section: section!, lastMs };
    });
    console.log(
      `curved MPR: ${curved.length.toFixed(1)} mm, straightened ${curved.straight.columns} x ${curved.straight.rows} and cross-section in ${curved.lastMs.toFixed(1)} ms`,
    );
    // The clicks landed on the axis (within a millimetre) and the curve runs their length.
    expect(curved.points).toHaveLength(4);
    for (const p of curved.points) {
      const d: Point3 = [p[0] - c.point[0], p[1] - c.point[1], p[2] - c.point[2]];
      const t = d[0] * c.axis[0] + d[1] * c.axis[1] + d[2] * c.axis[2];
      expect(Math.sqrt(Math.max(0, d[0] ** 2 + d[1] ** 2 + d[2] ** 2 - t * t)), JSON.stringify(p)).toBeLessThan(1);
    }
    expect(Math.abs(curved.length - 90 / c.axis[2])).toBeLessThan(2);
    // The planes show the points and the curve.
    expect(await page.evaluate(() => document.querySelectorAll('.viewport-cell[data-viewport="axial"] .curved-overlay circle').length)).toBe(5);
    /** Bright runs (> 128) through the middle column of each row of a canvas, as [from, to] in pixels from the middle. */
    const runs = (selector: string, transpose = false) =>
      page.evaluate(
        ({ selector, transpose }) => {
          const canvas = document.querySelector(selector)!;
          const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
          const [w, h] = transpose ? [canvas.height, canvas.width] : [canvas.width, canvas.height];
          const grey = (row: number, col: number) => (transpose ? data[(col * canvas.width + row) * 4] : data[(row * canvas.width + col) * 4]);
          const mid = (w - 1) / 2;
          const out: Array<[number, number]> = [];
          for (let r = 0; r < h; r++) {
            let lo = mid;
            let hi = mid;
            if (grey(r, mid) <= 128) {
              out.push([NaN, NaN]);
              continue;
            }
            while (lo > 0 && grey(r, lo - 1) > 128) lo--;
            while (hi < w - 1 && grey(r, hi + 1) > 128) hi++;
            out.push([lo - mid - 0.5, hi - mid + 0.5]);
          }
          return out;
        },
        { selector, transpose },
      );
    // Straightened: the cylinder is a band of its diameter centred in every row, along the whole curve.
    const band = await runs('#curved-straight');
    expect(band).toHaveLength(curved.straight.rows);
    const mm = curved.straight.columnSpacing;
    for (const [r, [from, to]] of band.entries()) {
      expect(Math.abs((to - from) * mm - 2 * c.radius), `row ${r}: ${from}..${to}`).toBeLessThan(1.5);
      expect(Math.abs(((to + from) / 2) * mm), `row ${r}: ${from}..${to}`).toBeLessThan(1.5);
    }
    // Cross-sections (middle, then 20 mm along the slider): a disc of the diameter.
    const disc = async () => {
      for (const transpose of [false, true]) {
        const rows = await runs('#curved-cross', transpose);
        const [from, to] = rows[(rows.length - 1) / 2];
        expect(Math.abs((to - from) * curved.section.columnSpacing - 2 * c.radius), `${transpose ? 'vertical' : 'horizontal'}: ${from}..${to}`).toBeLessThan(
          1.5,
        );
      }
    };
    await disc();
    await page.evaluate(() => {
      const slider = document.querySelector('#curved-position')!;
      slider.value = '20';
      slider.dispatchEvent(new Event('input'));
    });
    expect(await page.evaluate(() => window.__viewer3d!.page.curved.arc)).toBeCloseTo(20, 6);
    await disc();
    await press('#toolbar button[data-tool="Crosshairs"]');
  }, 600_000);

  it('clips the MIP with a box and with a plane set in the clip panel', async () => {
    const { large, medium, brightest } = phantom.volume.spheres;
    // Water black, the medium sphere (300 HU) grey, the large (1000) and brightest (2000) white.
    await page.evaluate(() => window.__viewer3d!.page.render3d({ kind: 'mip', lower: 0, upper: 1000 }));
    await page.evaluate(() => {
      const vp = window.__viewer3d!.page.viewport('volume3d');
      vp.setCamera({
        focalPoint: [0, 0, 80],
        position: [0, 0, 580],
        viewUp: [0, -1, 0],
        parallelProjection: true,
        parallelScale: vp.getCamera().parallelScale,
      });
    });
    const control = (id: string, value: string | boolean) =>
      page.evaluate(
        ({ id, value }) => {
          const el = (
            globalThis as unknown as { document: { getElementById(id: string): { value: string; checked: boolean; dispatchEvent(e: unknown): void } } }
          ).document.getElementById(id);
          if (typeof value === 'boolean') el.checked = value;
          else el.value = value;
          el.dispatchEvent(new (globalThis as unknown as { Event: new (type: string) => unknown }).Event('input'));
        },
        { id, value },
      );
    const grey = async () => {
      await rendered(['volume3d']);
      const [b, l, m] = await greyAtWorld('volume3d', [brightest.center, large.center, medium.center]);
      return { brightest: b, large: l, medium: m };
    };
    const before = await grey();
    expect(before.brightest, JSON.stringify(before)).toBeGreaterThan(200);
    expect(before.large).toBeGreaterThan(200);
    expect(before.medium).toBeGreaterThan(40);
    expect(before.medium).toBeLessThan(120);
    // Box: the slices above 57 % of the height (z > 91 mm) cut; the brightest sphere spans z 94..106.
    await control('clip-hi-2', '57');
    const boxed = await grey();
    expect(boxed.brightest, JSON.stringify(boxed)).toBeLessThan(20);
    expect(boxed.large).toBeGreaterThan(200); // it spans z 60..100: the part below still shows
    expect(Math.abs(boxed.medium - before.medium)).toBeLessThan(10);
    // A sagittal plane through the centre (x = 0), the left side (x > 0) kept: the large
    // sphere (x = -50) goes, the medium one (x = 50) stays; flipped, the other way round.
    await page.click('.clip-panel summary');
    await page.click('#clip-reset');
    await page.selectOption('#clip-plane', 'sagittal');
    const halved = await grey();
    expect(halved.large, JSON.stringify(halved)).toBeLessThan(20);
    expect(halved.brightest).toBeLessThan(20);
    expect(Math.abs(halved.medium - before.medium)).toBeLessThan(10);
    await page.check('#clip-flip');
    const flipped = await grey();
    expect(flipped.large, JSON.stringify(flipped)).toBeGreaterThan(200);
    expect(flipped.brightest).toBeGreaterThan(200);
    expect(flipped.medium).toBeLessThan(20);
    // Turning the view keeps the clip (Cornerstone re-places two planes on camera changes).
    await page.evaluate(() => {
      const vp = window.__viewer3d!.page.viewport('volume3d');
      vp.setCamera({
        focalPoint: [0, 0, 80],
        position: [0, 500, 80],
        viewUp: [0, 0, 1],
        parallelProjection: true,
        parallelScale: vp.getCamera().parallelScale,
      });
    });
    await rendered(['volume3d']);
    const [sideMedium, sideLarge] = await greyAtWorld('volume3d', [medium.center, large.center]);
    expect(sideMedium).toBeLessThan(20);
    expect(sideLarge).toBeGreaterThan(200);
    await page.click('#clip-reset');
    await page.click('.clip-panel summary');
  }, 600_000);

  it('makes a sphere vanish from the VRT by moving the opacity point at its HU to 0 in the transfer function editor', async () => {
    const { large, brightest } = phantom.volume.spheres;
    await page.evaluate(() => window.__viewer3d!.page.render3d({ kind: 'vrt', preset: 'CT-Bone' }));
    await page.evaluate(() => {
      const vp = window.__viewer3d!.page.viewport('volume3d');
      vp.setCamera({
        focalPoint: [0, 0, 80],
        position: [0, 0, 580],
        viewUp: [0, -1, 0],
        parallelProjection: true,
        parallelScale: vp.getCamera().parallelScale,
      });
    });
    const grey = async () => {
      await rendered(['volume3d']);
      const [l, b] = await greyAtWorld('volume3d', [large.center, brightest.center]);
      return { large: l, brightest: b };
    };
    const before = await grey();
    expect(before.large, JSON.stringify(before)).toBeGreaterThan(20);
    expect(before.brightest).toBeGreaterThan(20);
    // CT-Bone's curve: 0 up to 120 HU, 1 from 300 HU. Its point at 300 makes the 1000 HU
    // sphere opaque: dragged to (1200 HU, 0), nothing up to 1200 HU shows.
    await page.click('.tf-panel summary');
    const points = await page.evaluate(() => window.__viewer3d!.page.tf!.points);
    const k = points.findIndex((p) => Math.abs(p.x - 300) < 1);
    expect(k, JSON.stringify(points)).toBeGreaterThan(0);
    const onPage = (p: { x: number; y: number }) =>
      page.evaluate((p) => {
        const tf = window.__viewer3d!.page.tf!;
        const r = tf.canvas.getBoundingClientRect();
        const [x, y] = tf.toCanvas(p);
        return { x: r.left + x, y: r.top + y };
      }, p);
    // One move: each move re-renders the VRT live, minutes a frame in software WebGL on a busy machine.
    await drag(await onPage(points[k]), await onPage({ x: 1200, y: 0 }), 1);
    const moved = (await page.evaluate(() => window.__viewer3d!.page.tf!.points))[k];
    // One canvas pixel is 2000 HU / 290 here.
    expect(Math.abs(moved.x - 1200), JSON.stringify(moved)).toBeLessThan(15);
    expect(moved.y).toBe(0);
    const gone = await grey();
    expect(gone.large, JSON.stringify(gone)).toBeLessThan(20);
    expect(gone.brightest).toBeGreaterThan(20); // 2000 HU: still on the curve's ramp
    // Back to the preset's curve: the sphere is back.
    await page.click('#tf-reset');
    const back = await grey();
    expect(back.large, JSON.stringify(back)).toBeGreaterThan(20);
    expect(Math.abs(back.large - before.large)).toBeLessThan(10);
    await page.click('.tf-panel summary');
  }, 600_000);

  it("measures a sphere's diameter with the length tool on the sagittal plane and its HU with an ROI on the coronal plane", async () => {
    await openMpr(phantom.studyUid);
    const { large } = phantom.volume.spheres;
    const at = await pagePoint('axial', large.center);
    await page.mouse.click(at.x, at.y);
    await expect.poll(async () => Math.abs((await focal('sagittal'))[0] - large.center[0]), { timeout: 30_000 }).toBeLessThan(1);
    await expect.poll(async () => Math.abs((await focal('coronal'))[1] - large.center[1]), { timeout: 30_000 }).toBeLessThan(1);
    await rendered(MPR);
    const measurements = (toolName: string) =>
      page.evaluate((toolName) => {
        const h = window.__viewer3d!;
        return h.tools.annotation.state
          .getAnnotations(toolName, h.page.viewport('sagittal').element)
          .map((a) => ({ points: a.data.handles.points, stats: Object.values(a.data.cachedStats)[0] }));
      }, toolName);
    // Read once the tool has settled (settled.ts).
    const settled = (toolName: string, ready: (ms: Awaited<ReturnType<typeof measurements>>) => boolean) => settledRead(() => measurements(toolName), ready);
    // A diameter at 45° (off the reference lines), dragged from one end to the other.
    await page.click('#toolbar button[data-tool="Length"]');
    const d = large.radius * Math.SQRT1_2;
    const ends: Point3[] = [add(large.center, [0, -d, -d]), add(large.center, [0, d, d])];
    await drag(await pagePoint('sagittal', ends[0]), await pagePoint('sagittal', ends[1]));
    const dist = (a: Point3, b: Point3) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
    const [length] = await settled('Length', (ms) => ms.length === 1 && ms[0].stats?.length !== undefined && ms[0].stats.length > 0);
    // The handles land on whole CSS pixels (about 0.5 mm here) on the plane: within a voxel
    // of the ends, on the sagittal plane through the centre; the length is between them.
    for (const [k, p] of length.points.entries()) expect(dist(p, ends[k]), JSON.stringify(length.points)).toBeLessThan(1);
    expect(Math.abs(length.stats.length! - dist(length.points[0], length.points[1]))).toBeLessThan(0.01);
    expect(Math.abs(length.stats.length! - 2 * large.radius)).toBeLessThan(1);
    // The crosshairs did not move while measuring.
    expect(Math.abs((await focal('sagittal'))[0] - large.center[0])).toBeLessThan(1);
    // ROIs on the coronal plane: inside the 1000 HU sphere, and in the water (0 HU).
    await page.click('#toolbar button[data-tool="EllipticalROI"]');
    const inSphere = add(large.center, [6, 0, 6]);
    const inWater = add(large.center, [45, 0, 30]);
    for (const c of [inSphere, inWater]) await drag(await pagePoint('coronal', c), await pagePoint('coronal', add(c, [8, 0, 8])));
    const [sphereRoi, waterRoi] = await settled('EllipticalROI', (ms) => ms.filter((m) => m.stats?.mean !== undefined).length === 2);
    expect(sphereRoi.stats.mean, JSON.stringify(sphereRoi.stats)).toBeCloseTo(1000, 1);
    expect(sphereRoi.stats.stdDev).toBeLessThan(1);
    expect(sphereRoi.stats.area! / (Math.PI * 64)).toBeGreaterThan(0.8);
    expect(sphereRoi.stats.area! / (Math.PI * 64)).toBeLessThan(1.2);
    expect(waterRoi.stats.mean, JSON.stringify(waterRoi.stats)).toBeCloseTo(0, 1);
    // Both drawn on the coronal plane (y of the sphere's centre).
    for (const p of [...sphereRoi.points, ...waterRoi.points]) expect(Math.abs(p[1] - large.center[1])).toBeLessThan(1);
    await page.click('#toolbar button[data-tool="Crosshairs"]');
  }, 600_000);

  it('renders a volume over the 3D budget (&max3d=) downsampled, the spheres where they are, the planes at full resolution', async () => {
    const { large, brightest } = phantom.volume.spheres;
    await openMpr(phantom.studyUid, '&max3d=2000000');
    const state = await page.evaluate(() => ({
      error: window.__viewer3d!.error,
      downsample: window.__viewer3d!.page.downsample,
      dims3d: window.__viewer3d!.page.volume3d?.dimensions,
      dims: window.__viewer3d!.page.series?.volume.dimensions,
    }));
    expect(state.error).toBeUndefined();
    // 256 x 256 x 161 = 10.6 Mi voxels: 2 x 2 in-plane leaves 2.6 Mi, then 2 along the
    // slices (now the longest axis) brings it under 2,000,000.
    expect(state.downsample).toEqual([2, 2, 2]);
    expect(state.dims3d).toEqual([128, 128, 80]);
    expect(state.dims).toEqual([256, 256, 161]);
    // Clipping and the opacity editor work on the downsampled volume as well.
    expect(await page.$$('.viewport-cell[data-viewport="volume3d"] :is(.clip-panel, .tf-panel)')).toHaveLength(2);
    // VRT after MIP blends again (the mapper's blend mode: 0 composite, 1 maximum intensity).
    const blend = (mode: object) =>
      page.evaluate((mode) => {
        const p = window.__viewer3d!.page as unknown as {
          render3d(m: unknown): void;
          viewport(id: string): { getDefaultActor(): { actor: { getMapper(): { getBlendMode(): number } } } };
        };
        p.render3d(mode);
        return p.viewport('volume3d').getDefaultActor().actor.getMapper().getBlendMode();
      }, mode);
    expect(await blend({ kind: 'mip', lower: -160, upper: 240 })).toBe(1);
    expect(await blend({ kind: 'vrt', preset: 'CT-Bone' })).toBe(0);
    await page.evaluate(() => {
      const vp = window.__viewer3d!.page.viewport('volume3d');
      vp.setCamera({
        focalPoint: [0, 0, 80],
        position: [0, 0, 580],
        viewUp: [0, -1, 0],
        parallelProjection: true,
        parallelScale: vp.getCamera().parallelScale,
      });
    });
    await rendered(['volume3d']);
    const [l, b, water] = await greyAtWorld('volume3d', [large.center, brightest.center, [0, -100, 80]]);
    expect(l, 'large sphere in the downsampled VRT').toBeGreaterThan(20);
    expect(b, 'brightest sphere in the downsampled VRT').toBeGreaterThan(20);
    expect(water, 'water nearly transparent in CT-Bone').toBeLessThan(l / 2);
    // A budget below the least one may ask for is refused with a message.
    await page.goto(`${base}/viewer?StudyInstanceUIDs=${phantom.studyUid}&mode=mpr&max3d=1000`);
    await expect.poll(() => page.textContent('.viewer-error')).toMatch(/max3d must be a whole number of voxels, at least 262144: "1000"/);
  }, 600_000);

  it('corrects gantry tilt: the sagittal plane shows a sphere round and where it is', async () => {
    await openMpr(tilted.studyUid, `&series=${tilted.seriesUid}`);
    const state = await page.evaluate(() => ({ error: window.__viewer3d!.error, dims: window.__viewer3d!.page.series?.volume.dimensions }));
    expect(state.error).toBeUndefined();
    // 120 mm of slices shifted by tan(15°) per mm along y: 33 more rows to hold them all.
    expect(state.dims).toEqual([256, 256 + Math.ceil(120 * Math.tan((TILT * Math.PI) / 180)), 121]);
    await expect.poll(() => page.textContent('#viewer-status'), { timeout: 60_000 }).toMatch(/gantry tilt of 15\.0° corrected/);
    const { large } = tilted.volume.spheres;
    const at = await pagePoint('axial', large.center);
    await page.mouse.click(at.x, at.y);
    await expect.poll(async () => Math.abs((await focal('sagittal'))[0] - large.center[0]), { timeout: 30_000 }).toBeLessThan(1);
    await page.evaluate(() => window.__viewer3d!.page.setWindow(500, 2));
    await rendered(MPR);
    // Uncorrected, the sphere's slices would sit up to 20 * tan(15°) = 5.4 mm off along y
    // (an oblique ellipse) and its centre 80 * tan(15°) = 21 mm off.
    for (const dir of [
      [0, 1, 0],
      [0, 0, 1],
      [0, Math.SQRT1_2, Math.SQRT1_2],
      [0, Math.SQRT1_2, -Math.SQRT1_2],
    ] as Point3[]) {
      const run = await brightRun('sagittal', large.center, dir, large.radius + 15);
      expect(Math.abs(run.from + large.radius), `${dir}: ${JSON.stringify(run)}`).toBeLessThan(1.5);
      expect(Math.abs(run.to - large.radius), `${dir}: ${JSON.stringify(run)}`).toBeLessThan(1.5);
    }
  }, 600_000);

  it('refuses a series with a missing slice and names where', async () => {
    await openMpr(gappy.studyUid, `&series=${gappy.seriesUid}`);
    expect(await page.evaluate(() => window.__viewer3d!.error)).toMatch(/^1 slice is missing \(1 missing between 5\.00 and 7\.50 mm\)$/);
    expect(await page.textContent('.viewport-cell[data-viewport="axial"] .viewport-message')).toMatch(/cannot build a volume: 1 slice is missing/);
    // A series that is not in the study: said, not a blank page.
    await openMpr(gappy.studyUid, '&series=1.2.3');
    expect(await page.evaluate(() => window.__viewer3d!.error)).toBe(`series 1.2.3 is not in study ${gappy.studyUid}`);
  }, 240_000);
});

describe('viewer 2D -> MPR / 3D', () => {
  it('opens the active series of the 2D viewer in the MPR layout with the 3D / MPR button', async () => {
    await page.goto(`${base}/viewer?StudyInstanceUIDs=${phantom.studyUid}`);
    await page.waitForFunction(() => (window as unknown as { __viewer?: { ready?: boolean } }).__viewer?.ready === true, null, { timeout: 60_000 });
    await page.click('#open-mpr');
    await page.waitForFunction(() => window.__viewer3d?.ready === true, null, { timeout: 180_000 });
    const url = new URL(page.url());
    expect(url.searchParams.get('mode')).toBe('mpr');
    expect(url.searchParams.get('series')).toBe(phantom.seriesUid);
  }, 240_000);
});
