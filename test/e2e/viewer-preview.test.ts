/**
 * The first image drawn before Cornerstone has loaded (ui/src/viewer/preview.ts), in
 * headless chromium against `pacs serve`: with the viewer's main chunk held back, the
 * phantom's first slice is on a plain canvas with the grey levels of the header's window
 * (or, without one, of the image's own range, as the viewer's default), fitted to its
 * cell, with the overlay text; once the chunk is let through, Cornerstone's first render
 * replaces it, in the same place and with the same grey levels.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ctSliceZ, HU, writeCtSeries, type CtSeriesResult } from '../../scripts/gen-test-data.js';
import { makeTempDir } from '../support/tmp.js';
import { PASSWORD, startViewer, stopViewer, type StackViewportLike, type ViewerPage } from './viewer-fixture.js';

interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}
interface CanvasEl {
  width: number;
  height: number;
  getContext(type: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
  getBoundingClientRect(): Rect;
}
interface El {
  textContent: string | null;
  style: Record<string, string>;
  querySelector(s: string): CanvasEl | null;
}
declare const window: {
  __viewer?: {
    ready: boolean;
    viewer: { timings: Record<string, number | undefined>; grid: { cells: Array<{ element: El; viewport?: StackViewportLike }> } };
  };
  __previewSeen?: number;
  __previewFirst?: Rect;
  __previewGone?: Rect;
  addEventListener(type: string, listener: () => void, capture: boolean): void;
};
declare const document: { querySelector(s: string): (El & CanvasEl) | null; body: unknown };
declare const performance: { now(): number };
declare class MutationObserver {
  constructor(cb: () => void);
  observe(target: unknown, options: { childList: boolean }): void;
}

let v: ViewerPage;
let windowed: CtSeriesResult; // the header's window: 0 / 4001 (air, water and bone each a grey of their own)
let unwindowed: CtSeriesResult; // no window in the header: the viewer shows the image's range

/** Cornerstone's VOI range of a linear window (PS3.3 C.11.2.1.2.1) and the grey of a value under it. */
const greyOf = (value: number, lower: number, upper: number) => Math.round(Math.min(1, Math.max(0, (value - lower) / (upper - lower))) * 255);

beforeAll(async () => {
  const dir = await makeTempDir('pacs-viewer-preview-');
  windowed = await writeCtSeries({ dir: join(dir, 'w'), count: 5, rows: 256, cols: 256, seriesDescription: 'windowed', windows: [{ center: 0, width: 4001 }] });
  unwindowed = await writeCtSeries({ dir: join(dir, 'u'), count: 5, rows: 256, cols: 256, seriesDescription: 'no window', windows: [] });
  v = await startViewer({ dir, files: [...windowed.files, ...unwindowed.files] });
}, 600_000);

afterAll(() => stopViewer(v));

/** A page of a browser context of its own (nothing remembered), logged in, that notes when and where the preview was first drawn. */
async function loggedInPage(width: number): Promise<Page> {
  const context = await v.browser.newContext({ viewport: { width, height: 900 } });
  const login = await context.request.post(`${v.base}/api/login`, { data: { user: 'admin', password: PASSWORD } });
  expect(login.ok()).toBe(true);
  await context.addInitScript(() => {
    window.addEventListener(
      'viewer-preview-rendered',
      () => {
        window.__previewSeen = performance.now();
        const s = document.querySelector('#viewer-preview')!.style;
        window.__previewFirst = { left: parseFloat(s.left), top: parseFloat(s.top), width: parseFloat(s.width), height: parseFloat(s.height) };
      },
      true,
    );
  });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  return page;
}

/** The viewer's main chunk (Cornerstone's importer) held until `release` is called. */
async function holdViewerChunk(page: Page): Promise<() => void> {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  await page.route(/\/assets\/app-[\w-]+\.js$/, async (route) => {
    await gate;
    await route.continue();
  });
  return release;
}

/** Image fractions (0-1 across the image, left to right and top to bottom) of a point of the phantom's plane (mm, image centre 0). */
function fractionOf(ct: CtSeriesResult, x: number, y: number): { u: number; v: number } {
  const p = ct.phantom;
  return { u: x / (p.cols * p.pixelSpacing) + 0.5, v: y / (p.rows * p.pixelSpacing) + 0.5 };
}

/** Points of the phantom's first slice: air, water, bone (mm). */
function points(ct: CtSeriesResult): Record<'air' | 'water' | 'bone', { x: number; y: number }> {
  const p = ct.phantom;
  const extent = p.cols * p.pixelSpacing;
  return { air: { x: -0.43 * extent, y: 0 }, water: { x: -0.1 * extent, y: 0.1 * extent }, bone: { x: p.boneX, y: p.boneY } };
}

/** The preview canvas's grey at image fractions (the image fitted whole and centred in the canvas). */
function previewGrey(page: Page, f: { u: number; v: number }): Promise<number> {
  return page.evaluate((f) => {
    const canvas = document.querySelector('#viewer-preview canvas')!;
    const s = Math.min(canvas.width, canvas.height);
    const x = Math.floor((canvas.width - s) / 2 + f.u * s);
    const y = Math.floor((canvas.height - s) / 2 + f.v * s);
    return canvas.getContext('2d')!.getImageData(x, y, 1, 1).data[0];
  }, f);
}

/** Cornerstone's canvas's grey at a world point. */
function cornerstoneGrey(page: Page, world: [number, number, number]): Promise<number> {
  return page.evaluate((w) => {
    const vp = window.__viewer!.viewer.grid.cells[0].viewport!;
    const [x, y] = vp.worldToCanvas(w);
    return vp.canvas.getContext('2d')!.getImageData(Math.floor(x), Math.floor(y), 1, 1).data[0];
  }, world);
}

/** Opens the study in a new browser profile `width` px wide; returns how many rows the viewer's toolbar took. */
async function checkOpening(ct: CtSeriesResult, lower: number, upper: number, readout: string, width = 1280): Promise<{ toolbarRows: number }> {
  const page = await loggedInPage(width);
  try {
    const release = await holdViewerChunk(page);
    await page.goto(`${v.base}/viewer?StudyInstanceUIDs=${ct.studyUid}`);
    await page.waitForFunction(() => window.__previewSeen !== undefined, null, { timeout: 120_000 });
    expect(await page.evaluate(() => window.__viewer === undefined)).toBe(true); // Cornerstone has not loaded
    const pts = points(ct);
    const expected = { air: greyOf(HU.air, lower, upper), water: greyOf(HU.water, lower, upper), bone: greyOf(HU.bone, lower, upper) };
    for (const k of ['air', 'water', 'bone'] as const) {
      const g = await previewGrey(page, fractionOf(ct, pts[k].x, pts[k].y));
      expect(Math.abs(g - expected[k]), `${k}: preview ${g}, expected ${expected[k]}`).toBeLessThanOrEqual(2);
    }
    // Outside the image (the cell is wider than the square image): the viewport's black.
    expect(await previewGrey(page, { u: -0.02, v: 0.5 })).toBe(0);
    const text = await page.evaluate(() => document.querySelector('#viewer-preview')!.textContent);
    expect(text).toContain(readout);
    expect(text).toContain(`Im: 1/${ct.files.length}`);
    expect(text).toContain('Zoom: 100%');
    // Where the preview was when Cornerstone's render replaced it.
    await page.evaluate(() => {
      const host = document.querySelector('#viewer-preview')!;
      new MutationObserver(() => {
        if (!document.querySelector('#viewer-preview') && !window.__previewGone) {
          const s = host.style;
          window.__previewGone = { left: parseFloat(s.left), top: parseFloat(s.top), width: parseFloat(s.width), height: parseFloat(s.height) };
        }
      }).observe(document.body, { childList: true });
    });
    release();
    await page.waitForFunction(() => window.__viewer?.ready === true && window.__viewer.viewer.timings.firstDrawn !== undefined, null, { timeout: 300_000 });
    expect(await page.evaluate(() => document.querySelector('#viewer-preview'))).toBeNull();
    const t = await page.evaluate(() => window.__viewer!.viewer.timings);
    expect(t.firstPreview).toBeDefined();
    expect(t.firstPreview!).toBeLessThan(t.firstDrawn!);
    const gone = await page.evaluate(() => window.__previewGone);
    const canvasRect = await page.evaluate(() => window.__viewer!.viewer.grid.cells[0].viewport!.canvas.getBoundingClientRect());
    expect(gone).toBeDefined();
    for (const k of ['left', 'top', 'width', 'height'] as const) expect(Math.abs(gone![k] - canvasRect[k]), k).toBeLessThanOrEqual(1);
    // ...and where it was first drawn, over the page's skeleton: the same place in a new
    // browser profile (no toolbar height remembered), however many rows the toolbar takes.
    const first = await page.evaluate(() => window.__previewFirst);
    for (const k of ['left', 'top', 'width', 'height'] as const) expect(Math.abs(first![k] - gone![k]), `first drawn: ${k}`).toBeLessThanOrEqual(1);
    const z = ctSliceZ(ct.phantom, 0);
    for (const k of ['air', 'water', 'bone'] as const) {
      const g = await cornerstoneGrey(page, [pts[k].x, pts[k].y, z]);
      expect(Math.abs(g - expected[k]), `${k}: Cornerstone ${g}, expected ${expected[k]}`).toBeLessThanOrEqual(4);
    }
    // Rows: the tops of the toolbar's groups, those within a few pixels of each other one row.
    const tops = (await page.$$eval('#toolbar > .tb-group', (els) => els.map((e) => e.getBoundingClientRect().top))).sort((a, b) => a - b);
    const rows = tops.filter((t, i) => i === 0 || t - tops[i - 1] > 5);
    console.log(`${width} px wide: toolbar rows at ${rows.map((t) => t.toFixed(0)).join(', ')} px`);
    return { toolbarRows: rows.length };
  } finally {
    await page.context().close();
  }
}

describe('viewer preview', { timeout: 600_000 }, () => {
  it("draws the first image under the header's window before Cornerstone, which then replaces it in place", async () => {
    await checkOpening(windowed, -2000.5, 1999.5, 'W: 4001 L: 0');
  });

  it('in a narrow window, where the toolbar takes more rows, draws the first image where the viewer will', async () => {
    const { toolbarRows } = await checkOpening(windowed, -2000.5, 1999.5, 'W: 4001 L: 0', 760);
    expect(toolbarRows).toBeGreaterThanOrEqual(4);
  });

  it("without a window in the header, draws the image's own range, as the viewer does", async () => {
    // Stored padding (-2000) is the smallest value: -3024 after the rescale; bone the largest.
    await checkOpening(unwindowed, -3024, 1000, 'W: 4025 L: -1012');
  });
});
