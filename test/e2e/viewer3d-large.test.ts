/**
 * A 1,000-slice 512 x 512 CT (524 MB of pixels) in the viewer's MPR / 3D layout, in
 * headless chromium with software WebGL: the volume builds, the planes and the 3D view
 * are not blank, the 3D volume is downsampled (2 x 2 x 2) while the planes keep full
 * resolution. Logs the build time and the frame times of MPR scrolling and VRT rotation.
 * Slow on purpose (several minutes on two shared cores): its own file.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCtSeries, type CtSeriesResult } from '../../scripts/gen-test-data.js';
import { REPO_ROOT, startPacsServe, stopAllPeers, storescu } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { launchChromiumWithWebGL } from './browser.js';
import { canvasStatsOf, type PixelCanvasLike } from './canvas-stats.js';
import { frameTime } from './viewer3d-frames.js';

type Point3 = [number, number, number];
interface ViewportLike {
  canvas: PixelCanvasLike;
  element: { addEventListener(type: string, listener: () => void, options?: { once: boolean }): void };
  getCamera(): { focalPoint: Point3; position: Point3; viewPlaneNormal: Point3; viewUp: Point3 };
  setCamera(c: { focalPoint?: Point3; position?: Point3; viewUp?: Point3 }): void;
  render(): void;
}
interface Hook {
  ready: boolean;
  error?: string;
  page: {
    series?: { volume: { dimensions: Point3 } };
    volume3d?: { dimensions: Point3 };
    downsample: Point3;
    timings: Record<string, number>;
    viewport(id: string): ViewportLike;
  };
}
declare const window: { __viewer3d?: Hook };

const COUNT = 1000;
const SIZE = 512;

let browser: Browser;
let page: Page;
let base: string;
let ct: CtSeriesResult;

/** Standard deviation of the grey levels of a viewport's canvas (0 when blank). */
async function canvasStd(id: string): Promise<number> {
  const stats = await canvasStatsOf(await page.evaluateHandle((id) => window.__viewer3d!.page.viewport(id).canvas, id));
  return stats?.std ?? 0;
}

beforeAll(async () => {
  const dir = await makeTempDir('pacs-viewer3d-large-');
  await build({ root: join(REPO_ROOT, 'ui'), logLevel: 'warn' });
  ct = await writeCtSeries({ dir: join(dir, 'ct'), count: COUNT, rows: SIZE, cols: SIZE });
  const { pacs, base: web } = await startPacsServe(join(dir, 'pacs'), 'e2e-password');
  const stored = await storescu({ port: pacs.port, calledAet: pacs.aet, files: ct.files });
  expect(stored.code, stored.stderr).toBe(0);
  base = web;
  browser = await launchChromiumWithWebGL();
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('pageerror', (e) => console.error('page error:', e.message));
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await stopAllPeers();
  await removeTempDirs();
});

describe('viewer MPR / 3D with a large volume', () => {
  it(`loads ${COUNT} slices of ${SIZE} x ${SIZE} without a blank viewport`, async () => {
    await page.goto(`${base}/viewer?StudyInstanceUIDs=${ct.studyUid}&mode=mpr`);
    await page.fill('#login-password', 'e2e-password');
    await page.click('#login-form button[type=submit]');
    await page.waitForFunction(() => window.__viewer3d?.ready === true, null, { timeout: 1_500_000, polling: 1000 });
    const state = await page.evaluate(() => {
      const p = window.__viewer3d!.page;
      return {
        error: window.__viewer3d!.error,
        dims: p.series?.volume.dimensions,
        dims3d: p.volume3d?.dimensions,
        downsample: p.downsample,
        timings: p.timings,
      };
    });
    expect(state.error).toBeUndefined();
    expect(state.dims).toEqual([SIZE, SIZE, COUNT]);
    // Full resolution for the planes, 2 x 2 x 2 fewer voxels for the 3D view.
    expect(state.downsample).toEqual([2, 2, 2]);
    expect(state.dims3d).toEqual([SIZE / 2, SIZE / 2, COUNT / 2]);
    expect(await page.$$eval('.viewport-message', (els) => els.map((e) => e.textContent).filter(Boolean))).toEqual([]);
    // The downsampled copy holds the phantom's values (air, water, bone), not zeros or NaN.
    const range = await page.evaluate(() => {
      const h = window.__viewer3d as unknown as {
        core: { cache: { getImage(id: string): { voxelManager: { getScalarData(): ArrayLike<number> } } | undefined } };
        page: { volume3d: { imageIds: string[] } };
      };
      const ids = h.page.volume3d.imageIds;
      const data = h.core.cache.getImage(ids[Math.floor(ids.length / 2)])!.voxelManager.getScalarData();
      let [lo, hi, nan] = [Infinity, -Infinity, 0];
      for (let i = 0; i < data.length; i++) {
        const v = data[i];
        if (Number.isNaN(v)) nan++;
        else [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
      }
      return { lo, hi, nan };
    });
    expect(range.nan).toBe(0);
    expect(range.lo, JSON.stringify(range)).toBeLessThan(-900);
    expect(range.hi, JSON.stringify(range)).toBeGreaterThan(900);
    // The 3D view from the front: the phantom's bone rod runs head to foot, seen end-on
    // from the default view (a small disc) but a long bar from here.
    await page.evaluate(() => {
      const vp = window.__viewer3d!.page.viewport('volume3d');
      const { focalPoint: f, position: p } = vp.getCamera();
      const d = Math.hypot(p[0] - f[0], p[1] - f[1], p[2] - f[2]);
      vp.setCamera({ position: [f[0], f[1] - d, f[2]], viewUp: [0, 0, 1] });
      vp.render();
    });
    for (const id of ['axial', 'sagittal', 'coronal', 'volume3d']) {
      await expect.poll(() => canvasStd(id), { timeout: 120_000, message: `viewport ${id} blank` }).toBeGreaterThan(5);
    }
    const t = state.timings;
    const scroll = await frameTime(page, 'axial', 'scroll', 5);
    const rotate = await frameTime(page, 'volume3d', 'rotate', 3);
    console.log(
      `${COUNT} x ${SIZE}^2: metadata and volume created ${(t.volumeCreated - t.start).toFixed(0)} ms, all slices loaded ${(t.volumeLoaded - t.start).toFixed(0)} ms, 3D ready ${(t.threeDReady - t.start).toFixed(0)} ms after the page started; MPR scroll frame ${scroll.toFixed(0)} ms, VRT rotation frame ${rotate.toFixed(0)} ms (median)`,
    );
  }, 1_800_000);
});
