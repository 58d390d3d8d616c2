/**
 * What the 2D viewer loads and how its canvases follow the page, in headless chromium
 * against `pacs serve` with a small CT: opening a study in 2D asks for no MPR / 3D code
 * (the viewer3d chunk, Cornerstone's compute worker) and no WebGPU half of vtk.js, within a
 * script budget before its first image; `&mode=mpr` does load the viewer3d chunk. Each
 * canvas keeps the size of its element when the window narrows so that the toolbar wraps,
 * and when the toolbar wraps to another row with the window unchanged (a long status).
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCtSeries, type CtSeriesResult } from '../../scripts/gen-test-data.js';
import { makeTempDir } from '../support/tmp.js';
import { PASSWORD, startViewer, stopViewer, type ViewerHook, type ViewerPage } from './viewer-fixture.js';

interface ElementLike {
  clientWidth: number;
  clientHeight: number;
  textContent: string | null;
  getBoundingClientRect(): { height: number };
}
declare const window: { __viewer?: ViewerHook & { viewer: { timings: Record<string, unknown> } } };
declare const document: { querySelector(selector: string): ElementLike | null };
declare const performance: { getEntriesByType(type: string): Array<{ name: string; responseEnd: number; decodedBodySize: number }> };

/**
 * The scripts the 2D viewer may parse before its first image: about 3.2 MB now; 4.4 MB
 * when Cornerstone's packages brought two more copies of dcmjs, vtk.js's WebGPU classes
 * and its XML reader (with an XML builder and a YAML parser).
 */
const SCRIPT_BUDGET_BEFORE_FIRST_IMAGE = 3_600_000;

let v: ViewerPage;
let page: Page;
let ct: CtSeriesResult;

/** The paths of the scripts and workers a page asks for, from the moment this is called. */
function scriptsAskedBy(p: Page): string[] {
  const paths: string[] = [];
  p.on('request', (r) => {
    const path = new URL(r.url()).pathname;
    if (path.startsWith('/assets/') && path.endsWith('.js')) paths.push(path);
  });
  return paths;
}

/** A page of a browser context of its own, logged in. */
async function loggedInPage(): Promise<Page> {
  const context = await v.browser.newContext({ viewport: { width: 1600, height: 1000 } });
  const login = await context.request.post(`${v.base}/api/login`, { data: { user: 'admin', password: PASSWORD } });
  expect(login.ok()).toBe(true);
  return context.newPage();
}

/** Each cell's canvas size (drawing buffer and CSS box) beside its element's. */
function sizes(p: Page) {
  return p.evaluate(() =>
    window.__viewer!.viewer.grid.cells.map((c) => {
      const el = c.element as unknown as ElementLike & { querySelector(s: string): (ElementLike & { width: number; height: number }) | null };
      const canvas = el.querySelector('canvas')!;
      return {
        element: [el.clientWidth, el.clientHeight],
        css: [canvas.clientWidth, canvas.clientHeight],
        buffer: [canvas.width, canvas.height],
      };
    }),
  );
}

/** True when every canvas has its element's size (device pixel ratio 1 here). */
const follows = (s: Awaited<ReturnType<typeof sizes>>) =>
  s.every((c) => c.element[0] > 0 && c.css.join() === c.element.join() && c.buffer.join() === c.element.join());

const toolbarHeight = (p: Page) => p.evaluate(() => document.querySelector('#toolbar')!.getBoundingClientRect().height);

beforeAll(async () => {
  const dir = await makeTempDir('pacs-viewer-bundle-');
  ct = await writeCtSeries({ dir: join(dir, 'ct'), count: 24, rows: 128, cols: 128, seriesDescription: 'bundle' });
  v = await startViewer({ dir, files: ct.files });
  page = v.page;
  const login = await page.context().request.post(`${v.base}/api/login`, { data: { user: 'admin', password: PASSWORD } });
  expect(login.ok()).toBe(true);
  await page.goto(`${v.base}/viewer?StudyInstanceUIDs=${ct.studyUid}`);
  await page.waitForFunction(() => window.__viewer?.ready === true, null, { timeout: 300_000 });
}, 600_000);

afterAll(() => stopViewer(v));

describe('viewer bundle', { timeout: 600_000 }, () => {
  it('opens a 2D study without the MPR / 3D chunk, the compute worker or vtk.js WebGPU, within its script budget', async () => {
    const p = await loggedInPage();
    try {
      const asked = scriptsAskedBy(p);
      await p.goto(`${v.base}/viewer?StudyInstanceUIDs=${ct.studyUid}`);
      await p.waitForFunction(() => window.__viewer?.ready === true && window.__viewer.viewer.timings.firstDrawn !== undefined, null, {
        timeout: 300_000,
      });
      expect(asked.some((s) => /^\/assets\/viewer-[\w-]+\.js$/.test(s))).toBe(true);
      expect(asked.filter((s) => /\/(viewer3d|computeWorker)-/.test(s))).toEqual([]);
      // The code the page runs: no vtk.js WebGPU class registered anywhere in it.
      for (const s of asked.filter((x) => !x.includes('decodeImageFrameWorker'))) {
        const body = await (await p.request.get(`${v.base}${s}`)).text();
        expect(body.includes('vtkWebGPU'), s).toBe(false);
      }
      const before = await p.evaluate(() => {
        const drawn = window.__viewer!.viewer.timings.firstDrawn as number;
        return performance
          .getEntriesByType('resource')
          .filter((e) => /\/assets\/[^/]+\.js$/.test(new URL(e.name).pathname) && e.responseEnd <= drawn)
          .reduce((n, e) => n + e.decodedBodySize, 0);
      });
      expect(before).toBeGreaterThan(1_000_000); // Cornerstone itself is in it
      expect(before).toBeLessThan(SCRIPT_BUDGET_BEFORE_FIRST_IMAGE);
    } finally {
      await p.context().close();
    }
  });

  it("has its page fetch the viewer's main code at once, and run it once the first image's preview is up", async () => {
    const p = await loggedInPage();
    try {
      const url = `${v.base}/viewer?StudyInstanceUIDs=${ct.studyUid}`;
      const html = await (await p.request.get(url)).text();
      const preloaded = [...html.matchAll(/<link rel="modulepreload"[^>]* href="([^"]+)"/g)].map((m) => m[1]);
      const app = preloaded.find((h) => /^\/assets\/app-[\w-]+\.js$/.test(h));
      expect(app, html).toBeDefined();
      const order: string[] = [];
      p.on('request', (r) => {
        const path = new URL(r.url()).pathname;
        if (path === app) order.push('app');
        else if (path.includes('/frames/')) order.push('frame');
      });
      await p.goto(url);
      await p.waitForFunction(() => window.__viewer?.ready === true && window.__viewer.viewer.timings.firstDrawn !== undefined, null, {
        timeout: 300_000,
      });
      // Asked for by the page itself, before the first frame (which waits for the series and its metadata).
      expect(order.indexOf('app')).toBeGreaterThanOrEqual(0);
      expect(order.indexOf('app')).toBeLessThan(order.indexOf('frame'));
      // Run once the preview is drawn, unless the early frame took longer than the viewer waits for it (1 s).
      const t = (await p.evaluate(() => window.__viewer!.viewer.timings)) as { scriptsLoaded: number; firstPreview?: number; early: { frame?: number } };
      expect(t.firstPreview).toBeDefined();
      expect(t.scriptsLoaded > t.firstPreview! || (t.early.frame ?? Infinity) > 1000, JSON.stringify(t)).toBe(true);
    } finally {
      await p.context().close();
    }
  });

  it('loads the MPR / 3D chunk for &mode=mpr', async () => {
    const p = await loggedInPage();
    try {
      const asked = scriptsAskedBy(p);
      const chunk = p.waitForRequest((r) => /\/assets\/viewer3d-[\w-]+\.js$/.test(new URL(r.url()).pathname), { timeout: 300_000 });
      await p.goto(`${v.base}/viewer?StudyInstanceUIDs=${ct.studyUid}&mode=mpr`);
      await chunk;
      expect(asked.some((s) => /\/viewer3d-/.test(s))).toBe(true);
    } finally {
      await p.context().close();
    }
  });

  it('keeps each canvas the size of its element when the window narrows and the toolbar wraps', async () => {
    await expect.poll(async () => follows(await sizes(page)), { timeout: 30_000 }).toBe(true);
    const wide = await sizes(page);
    const rowsBefore = await toolbarHeight(page);
    await page.setViewportSize({ width: 700, height: 1000 });
    await expect.poll(() => toolbarHeight(page)).toBeGreaterThan(rowsBefore);
    await expect.poll(async () => follows(await sizes(page)), { timeout: 30_000 }).toBe(true);
    const narrow = await sizes(page);
    expect(narrow[0].element[0]).toBeLessThan(wide[0].element[0]);
    expect(narrow[0].element[1]).toBeLessThan(wide[0].element[1]);
    await page.setViewportSize({ width: 1600, height: 1000 });
    await expect.poll(async () => follows(await sizes(page)), { timeout: 30_000 }).toBe(true);
  });

  it('keeps each canvas the size of its element when the toolbar wraps with the window unchanged', async () => {
    await page.setViewportSize({ width: 1000, height: 800 });
    await expect.poll(async () => follows(await sizes(page)), { timeout: 30_000 }).toBe(true);
    const before = await sizes(page);
    const rowsBefore = await toolbarHeight(page);
    // A status as long as the viewer's longest (a failed save naming its reason): the toolbar takes another row.
    await page.evaluate(() => {
      document.querySelector('#viewer-status')!.textContent = 'measurements not saved: '.concat('the archive refused the report; '.repeat(6));
    });
    await expect.poll(() => toolbarHeight(page)).toBeGreaterThan(rowsBefore);
    await expect.poll(async () => follows(await sizes(page)), { timeout: 30_000 }).toBe(true);
    const after = await sizes(page);
    expect(after[0].element[1]).toBeLessThan(before[0].element[1]);
  });
});
