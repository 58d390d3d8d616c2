/**
 * Double oblique MPR and two cut planes in the 3D view, headless chromium with software
 * WebGL against `pacs serve`, on the phantom of scripts/gen-phantom-volume.ts (water 0 HU,
 * a 200 HU cylinder of radius 8 mm whose axis leans 30° from z towards x + y, a 1000 HU
 * sphere of radius 20 mm at (-50, -40, 80)). Checked on the rendered pixels at positions
 * computed from the known geometry, against absolute grey levels:
 * - a plane perpendicular to the cylinder's axis (turned about two axes: no patient axis
 *   lies in it) shows the cylinder as a white disc of radius 8 mm at the predicted place,
 *   water black around it;
 * - two oblique cut planes set in the clip panel (each by its own angles and offset) take
 *   away the MIP of the sphere beyond each of them, the part between stays white, and a
 *   plane turned off gives its part back.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writePhantomVolume, type PhantomVolume } from '../../scripts/gen-phantom-volume.js';
import type { CtSeriesResult } from '../../scripts/gen-test-data.js';
import { REPO_ROOT, startPacsServe, stopAllPeers, storescu } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { launchChromiumWithWebGL } from './browser.js';

type Point3 = [number, number, number];
// The page's test hook (window.__viewer3d) as far as used here (no DOM lib in the tests).
interface CanvasLike {
  width: number;
  height: number;
  getContext(type: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
  getBoundingClientRect(): { width: number };
}
interface VolumeViewportLike {
  element: { addEventListener(type: string, listener: () => void, options?: { once: boolean }): void };
  canvas: CanvasLike;
  worldToCanvas(world: Point3): [number, number];
  getCamera(): { parallelScale?: number; viewPlaneNormal: Point3; focalPoint: Point3 };
  setCamera(c: {
    focalPoint?: Point3;
    position?: Point3;
    viewUp?: Point3;
    viewPlaneNormal?: Point3;
    parallelProjection?: boolean;
    parallelScale?: number;
  }): void;
  render(): void;
}
interface Hook {
  ready: boolean;
  error?: string;
  page: {
    viewport(id: string): VolumeViewportLike;
    setWindow(center: number, width: number): void;
    render3d(mode: { kind: 'mip'; lower: number; upper: number }): Promise<void>;
  };
}
declare const window: { __viewer3d?: Hook };
declare const document: { getElementById(id: string): { value: string; checked: boolean; dispatchEvent(e: unknown): void } };
declare const Event: new (type: string) => unknown;

let browser: Browser;
let page: Page;
let phantom: CtSeriesResult & { volume: PhantomVolume };

const add = (a: Point3, b: Point3, k = 1): Point3 => [a[0] + k * b[0], a[1] + k * b[1], a[2] + k * b[2]];
const dot = (a: Point3, b: Point3) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a: Point3, b: Point3): Point3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const unit = (a: Point3): Point3 => {
  const l = Math.hypot(...a);
  return [a[0] / l, a[1] / l, a[2] / l];
};
const DEG = Math.PI / 180;

/** Grey levels (mean of R, G, B) of viewport `id` at world points (mm). */
function greyAtWorld(id: string, worlds: Point3[]): Promise<number[]> {
  return page.evaluate(
    ({ id, worlds }) => {
      const vp = window.__viewer3d!.page.viewport(id);
      const canvas = vp.canvas;
      const ratio = canvas.width / canvas.getBoundingClientRect().width;
      const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
      return worlds.map((w) => {
        const [x, y] = vp.worldToCanvas(w);
        const px = Math.round(x * ratio);
        const py = Math.round(y * ratio);
        if (px < 0 || py < 0 || px >= canvas.width || py >= canvas.height) return -1;
        const o = (py * canvas.width + px) * 4;
        return (data[o] + data[o + 1] + data[o + 2]) / 3;
      });
    },
    { id, worlds },
  );
}

/** Renders viewport `id` and waits until it has drawn the frame. */
function rendered(id: string): Promise<void> {
  return page.evaluate((id) => {
    const vp = window.__viewer3d!.page.viewport(id);
    const done = new Promise<void>((resolve) => vp.element.addEventListener('CORNERSTONE_IMAGE_RENDERED', () => resolve(), { once: true }));
    vp.render();
    return done;
  }, id);
}

/** Sets a control's value as typing or dragging it would, with its input event. */
function control(id: string, value: string | boolean): Promise<void> {
  return page.evaluate(
    ({ id, value }) => {
      const el = document.getElementById(id);
      if (typeof value === 'boolean') el.checked = value;
      else el.value = value;
      el.dispatchEvent(new Event('input'));
    },
    { id, value },
  );
}

beforeAll(async () => {
  const dir = await makeTempDir('pacs-viewer3d-cuts-e2e-');
  await build({ root: join(REPO_ROOT, 'ui'), logLevel: 'warn' });
  phantom = await writePhantomVolume({ dir: join(dir, 'phantom') });
  const { pacs, base } = await startPacsServe(join(dir, 'pacs'), 'e2e-password');
  const stored = await storescu({ port: pacs.port, calledAet: pacs.aet, files: phantom.files });
  expect(stored.code, stored.stderr).toBe(0);
  // One page in its own browser (software WebGL keeps a browser's GPU process busy after a page closes).
  browser = await launchChromiumWithWebGL();
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const login = await context.request.post(`${base}/api/login`, { data: { user: 'admin', password: 'e2e-password' } });
  expect(login.ok(), await login.text()).toBe(true);
  page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  page.on('console', (m) => m.type() === 'error' && console.error('console:', m.text()));
  await page.goto(`${base}/viewer?StudyInstanceUIDs=${phantom.studyUid}&mode=mpr`, { timeout: 180_000 });
  await page.waitForFunction(() => window.__viewer3d?.ready === true, null, { timeout: 300_000 });
  expect(await page.evaluate(() => window.__viewer3d!.error)).toBeUndefined();
}, 400_000);

afterAll(async () => {
  await browser?.close();
  await stopAllPeers();
  await removeTempDirs();
});

describe('double oblique MPR and cut planes', () => {
  it('shows the oblique cylinder as a disc of its radius on a plane perpendicular to its axis', async () => {
    const c = phantom.volume.cylinder;
    const axis = c.axis;
    // The plane's normal is the cylinder's axis: 45° about z, then 30° about the turned
    // x + y axis. Its up direction: the patient's head projected into the plane.
    const up = unit(add([0, 0, 1], axis, -axis[2]));
    const across = cross(up, axis);
    expect(Math.abs(axis[0]) > 0.3 && Math.abs(axis[1]) > 0.3 && Math.abs(axis[2]) > 0.3).toBe(true); // no patient axis in the plane
    await page.evaluate(
      ({ focal, normal, up }) => {
        const h = window.__viewer3d!.page;
        const vp = h.viewport('axial');
        vp.setCamera({
          focalPoint: focal,
          position: [focal[0] + 400 * normal[0], focal[1] + 400 * normal[1], focal[2] + 400 * normal[2]],
          viewPlaneNormal: normal,
          viewUp: up,
        });
        // The cylinder (200 HU) white, water (0 HU) black.
        h.setWindow(100, 2);
      },
      { focal: c.point, normal: axis, up },
    );
    await rendered('axial');
    const camera = await page.evaluate(() => window.__viewer3d!.page.viewport('axial').getCamera());
    expect(Math.abs(dot(camera.viewPlaneNormal, axis))).toBeCloseTo(1, 6);
    const ring = (r: number) => Array.from({ length: 12 }, (_, k) => add(add(c.point, up, r * Math.cos(30 * k * DEG)), across, r * Math.sin(30 * k * DEG)));
    const [centre] = await greyAtWorld('axial', [c.point]);
    const inside = await greyAtWorld('axial', ring(c.radius - 2));
    const outside = await greyAtWorld('axial', ring(c.radius + 2));
    expect(centre, 'centre').toBeGreaterThan(240);
    for (const g of inside) expect(g, `6 mm from the axis: ${JSON.stringify(inside)}`).toBeGreaterThan(240);
    for (const g of outside) expect(g, `10 mm from the axis: ${JSON.stringify(outside)}`).toBeLessThan(15);
    // The disc's diameter along the plane's two directions: 16 mm both (a plane tilted
    // off the perpendicular would cut an ellipse), within a voxel's rounding.
    for (const dir of [up, across]) {
      const offsets = Array.from({ length: 121 }, (_, k) => -15 + k * 0.25);
      const grey = await greyAtWorld(
        'axial',
        offsets.map((t) => add(c.point, dir, t)),
      );
      const bright = offsets.filter((_, k) => grey[k] >= 128);
      const from = Math.min(...bright);
      const to = Math.max(...bright);
      expect(Math.abs(from + c.radius), `from ${from} along ${dir}`).toBeLessThan(1.5);
      expect(Math.abs(to - c.radius), `to ${to} along ${dir}`).toBeLessThan(1.5);
    }
  }, 300_000);

  it('cuts the MIP of the sphere away beyond each of two oblique cut planes and keeps the part between', async () => {
    const s = phantom.volume.spheres.large;
    const C = s.center;
    // The MIP from the front (looking down z), the sphere (1000 HU) white, water black.
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
    // Cut 1: azimuth 30°, elevation 0 (normal (cos 30°, sin 30°, 0)); cut 2: azimuth -130°.
    // Both normals lie across the line of sight, so a cut shows as a straight edge. Each
    // offset (mm from the volume's centre (0, 0, 80) along its normal) puts the plane
    // 7.7 mm before the sphere's centre, seen from the side it keeps.
    const n1: Point3 = [Math.cos(30 * DEG), Math.sin(30 * DEG), 0];
    const n2: Point3 = [Math.cos(-130 * DEG), Math.sin(-130 * DEG), 0];
    const centre: Point3 = [0, 0, 80];
    const offset1 = Math.round(dot(add(C, centre, -1), n1) - 8); // -71
    const offset2 = Math.round(dot(add(C, centre, -1), n2) - 8); // 55
    const along = unit(cross([0, 0, 1], n1)); // in the kept wedge's length
    const points = {
      centre: C,
      beyond1: add(C, n1, -14), // 14 mm behind cut 1's side of the sphere, in front of cut 2
      beyond2: add(C, n2, -14),
      between1: add(C, n1, -5),
      between2: add(C, n2, -5),
      alongA: add(C, along, 14),
      alongB: add(C, along, -14),
    };
    const grey = async () => {
      await rendered('volume3d');
      const names = Object.keys(points) as Array<keyof typeof points>;
      const values = await greyAtWorld(
        'volume3d',
        names.map((k) => points[k]),
      );
      return Object.fromEntries(names.map((k, i) => [k, values[i]])) as Record<keyof typeof points, number>;
    };
    const before = await grey();
    for (const [k, g] of Object.entries(before)) expect(g, `${k} before any cut: ${JSON.stringify(before)}`).toBeGreaterThan(200);

    await page.click('.clip-panel summary');
    await page.fill('#clip-azimuth', '30');
    await page.fill('#clip-elevation', '0');
    await control('clip-offset', String(offset1));
    await page.selectOption('#clip-plane', 'oblique');
    const one = await grey();
    expect(one.beyond1, JSON.stringify(one)).toBeLessThan(15);
    for (const k of ['centre', 'beyond2', 'between1', 'between2', 'alongA', 'alongB'] as const)
      expect(one[k], `${k}: ${JSON.stringify(one)}`).toBeGreaterThan(200);

    await page.fill('#clip-azimuth-2', '-130');
    await page.fill('#clip-elevation-2', '0');
    await control('clip-offset-2', String(offset2));
    await page.selectOption('#clip-plane-2', 'oblique');
    const two = await grey();
    expect(two.beyond1, JSON.stringify(two)).toBeLessThan(15);
    expect(two.beyond2, JSON.stringify(two)).toBeLessThan(15);
    for (const k of ['centre', 'between1', 'between2', 'alongA', 'alongB'] as const) expect(two[k], `${k}: ${JSON.stringify(two)}`).toBeGreaterThan(200);

    // Cut 1 off: its side comes back, cut 2 still cuts.
    await page.selectOption('#clip-plane', 'off');
    const second = await grey();
    expect(second.beyond1, JSON.stringify(second)).toBeGreaterThan(200);
    expect(second.beyond2, JSON.stringify(second)).toBeLessThan(15);
    expect(second.centre).toBeGreaterThan(200);

    // Flipped, cut 2 keeps the other side: the sphere's centre goes, its far part stays.
    await page.check('#clip-flip-2');
    const flipped = await grey();
    expect(flipped.centre, JSON.stringify(flipped)).toBeLessThan(15);
    expect(flipped.beyond2, JSON.stringify(flipped)).toBeGreaterThan(200);
    await page.click('#clip-reset');
    const reset = await grey();
    for (const [k, g] of Object.entries(reset)) expect(g, `${k} after reset: ${JSON.stringify(reset)}`).toBeGreaterThan(200);
  }, 300_000);
});
