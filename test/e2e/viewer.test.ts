/**
 * The viewer (/viewer) in headless chromium with software WebGL against `pacs serve`:
 * a synthetic CT phantom study (two series sharing a frame of reference, 1.25 mm and
 * 2.5 mm slices) stored with storescu, opened through the viewer's login. The rendered
 * canvas is not blank; a W/L drag changes its pixels; a length between two known points
 * reads the known distance; ROIs over water and air report 0 and -1000 HU; synchronized
 * scrolling moves the second viewport to the slice at the same position; cine advances;
 * measurements saved as a DICOM SR come back after a reload; Imager Pixel Spacing
 * calibrates (labelled "mm Proj"); an undecodable image and a study deleted while open
 * each give a message in the viewport.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ctSliceZ, writeCtSeries, type CtSeriesResult } from '../../scripts/gen-test-data.js';
import { runDcmtk } from '../support/peers.js';
import { makeTempDir } from '../support/tmp.js';
import { PASSWORD, startViewer, stopViewer, type ViewerHook, type ViewerPage } from './viewer-fixture.js';

declare const window: { __viewer?: ViewerHook };

let v: ViewerPage;
let page: Page;
let base: string;
let thin: CtSeriesResult; // 40 slices of 1.25 mm
let thick: CtSeriesResult; // 10 slices of 2.5 mm, same frame of reference
let flat: CtSeriesResult; // 5 slices without Image Position/Orientation, a study of its own
let projection: CtSeriesResult; // 1 slice with Imager Pixel Spacing and no Pixel Spacing
let broken: CtSeriesResult; // 3 slices, the second JPEG-compressed with garbage in its fragment
let doomed: CtSeriesResult; // deleted while the viewer shows it

/**
 * Rewrites a slice as JPEG lossless (dcmcjpeg) whose fragment is then overwritten with
 * garbage of the same length: a file the archive stores but no decoder can read.
 */
async function corruptJpeg(file: string, tmp: string): Promise<void> {
  const r = await runDcmtk('dcmcjpeg', [file, tmp]);
  expect(r.code, r.stderr).toBe(0);
  const bytes = await readFile(tmp);
  const soi = bytes.indexOf(Buffer.from([0xff, 0xd8, 0xff]));
  expect(soi).toBeGreaterThan(0);
  const length = bytes.readUInt32LE(soi - 4); // the fragment's item length
  for (let k = soi; k < soi + length; k++) bytes[k] = (k * 37) & 0x7f;
  await writeFile(file, bytes);
}

beforeAll(async () => {
  const dir = await makeTempDir('pacs-viewer-e2e-');
  thin = await writeCtSeries({ dir: join(dir, 'ct'), count: 40, rows: 256, cols: 256, seriesDescription: 'thin' });
  thick = await writeCtSeries({
    dir: join(dir, 'ct'),
    count: 10,
    rows: 256,
    cols: 256,
    sliceThickness: 2.5,
    studyUid: thin.studyUid,
    patientId: thin.patientId,
    seriesNumber: 2,
    seriesDescription: 'thick',
  });
  // One frame of reference for both series, as one acquisition reconstructed twice.
  const modify = await runDcmtk('dcmodify', ['-nb', '-m', `(0020,0052)=${thin.frameOfReferenceUid}`, ...thick.files]);
  expect(modify.code, modify.stderr).toBe(0);
  flat = await writeCtSeries({ dir: join(dir, 'flat'), count: 5, rows: 128, cols: 128, seriesDescription: 'no geometry' });
  const strip = await runDcmtk('dcmodify', ['-nb', '-ea', '(0020,0032)', '-ea', '(0020,0037)', ...flat.files]);
  expect(strip.code, strip.stderr).toBe(0);
  projection = await writeCtSeries({ dir: join(dir, 'proj'), count: 1, rows: 256, cols: 256, seriesDescription: 'imager spacing' });
  const spacing = (await runDcmtk('dcmdump', ['+P', '0028,0030', projection.files[0]])).stdout.match(/\[([^\]]+)\]/)![1];
  const ips = await runDcmtk('dcmodify', ['-nb', '-ea', '(0028,0030)', '-i', `(0018,1164)=${spacing}`, '-m', '(0008,0060)=CR', ...projection.files]);
  expect(ips.code, ips.stderr).toBe(0);
  broken = await writeCtSeries({ dir: join(dir, 'broken'), count: 3, rows: 128, cols: 128, seriesDescription: 'one bad slice' });
  await corruptJpeg(broken.files[1], join(dir, 'broken-jpeg.dcm'));
  doomed = await writeCtSeries({ dir: join(dir, 'doomed'), count: 6, rows: 128, cols: 128, seriesDescription: 'deleted while open' });
  v = await startViewer({
    dir,
    files: [...thin.files, ...thick.files, ...flat.files, ...projection.files, broken.files[0], broken.files[2], ...doomed.files],
    losslessFiles: [broken.files[1]],
  });
  page = v.page;
  base = v.base;
});

afterAll(() => stopViewer(v));

describe('viewer', () => {
  it('says what is wrong with a bad study parameter', async () => {
    await page.goto(`${base}/viewer?StudyInstanceUIDs=1.2.x;drop`);
    await expect.poll(() => page.textContent('.viewer-error')).toMatch(/not a study instance UID: "1\.2\.x;drop"/);
  });

  it('asks for the login, then hangs the two series side by side and renders them', async () => {
    await page.goto(`${base}/viewer?StudyInstanceUIDs=${thin.studyUid}`);
    await v.login();
    await page.waitForFunction(() => window.__viewer?.ready === true, null, { timeout: 60_000 });
    expect(await page.getAttribute('#viewport-grid', 'data-layout')).toBe('1x2');
    expect(await page.$$eval('#series-panel .series-item', (els) => els.map((e) => e.getAttribute('data-series')))).toEqual([thin.seriesUid, thick.seriesUid]);
    // Both stacks in display order (by position: slice 0 at z = 0 first).
    await page.waitForFunction(() => window.__viewer!.viewer.grid.cells.every((c) => (c.viewport?.getImageIds().length ?? 0) > 0), null, { timeout: 60_000 });
    expect(await page.evaluate(() => window.__viewer!.viewer.grid.cells.map((c) => c.viewport!.getImageIds().length))).toEqual([40, 10]);
    await expect.poll(async () => (await v.canvasStats(0)).nonBlack, { timeout: 30_000 }).toBeGreaterThan(0.2);
    const s = await v.canvasStats(0);
    expect(s.std).toBeGreaterThan(10);
    // Overlay text and orientation markers of an axial HFS slice.
    const overlay = await page.textContent('.viewport-cell[data-index="0"] .overlay');
    expect(overlay).toContain('PHANTOM CT');
    expect(overlay).toContain('Im: 1/40');
    expect(overlay).toContain('Thick: 1.25 mm');
    expect(await page.textContent('.viewport-cell[data-index="0"] .orientation.left')).toBe('R');
    expect(await page.textContent('.viewport-cell[data-index="0"] .orientation.top')).toBe('A');
    // The series panel's thumbnails (rendered by the server) loaded.
    const thumbWidths = () => page.$$eval('#series-panel img.thumb', (imgs) => imgs.map((i) => (i as unknown as { naturalWidth: number }).naturalWidth));
    expect(await thumbWidths()).toHaveLength(2);
    await expect.poll(async () => Math.min(...(await thumbWidths()))).toBeGreaterThan(0);
  });

  it('gets its scripts compressed and immutable, each stack in a few Pixel Data requests; opened again, the scripts and first frames from the browser cache', async () => {
    const context = await v.browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const login = await context.request.post(`${base}/api/login`, { data: { user: 'admin', password: PASSWORD } });
      expect(login.ok()).toBe(true);
      const scripts: Array<{ path: string; encoding?: string; cacheControl?: string; bytes: number }> = [];
      const resourceEntries = (p: Page) =>
        p.evaluate(() =>
          (performance.getEntriesByType('resource') as unknown as Array<{ name: string; transferSize: number }>).map((e) => ({
            path: new URL(e.name).pathname,
            transferSize: e.transferSize,
          })),
        );
      // The stack's Pixel Data batches are requested by its fetch worker: not in the page's
      // resource timing, but the page's requests (Playwright reports a worker's with them).
      const pixelDataRequests = new Map<Page, string[]>();
      const opened = async (): Promise<Page> => {
        const p = await context.newPage();
        const asked: string[] = [];
        pixelDataRequests.set(p, asked);
        p.on('request', (r) => {
          const url = new URL(r.url());
          if (url.pathname.endsWith('/pixeldata')) asked.push(url.pathname + url.search);
        });
        p.on('response', (r) => {
          const path = new URL(r.url()).pathname;
          if (!/^\/assets\/[^/]+\.js$/.test(path)) return;
          const record = (b: Buffer) =>
            scripts.push({ path, encoding: r.headers()['content-encoding'], cacheControl: r.headers()['cache-control'], bytes: b.length });
          void r.body().then(record, () => undefined); // a body still unread when its page closes is not needed
        });
        await p.goto(`${base}/viewer?StudyInstanceUIDs=${thin.studyUid}`);
        // Opened in full (ready: the presentation states and key images looked up, their
        // chunks loaded) and both stacks cached: the first opening has then asked for every
        // script the second one will.
        await p.waitForFunction(
          (uids) => window.__viewer?.ready === true && uids.every((u) => window.__viewer?.viewer.timings?.stackCached?.[u] !== undefined),
          [thin.seriesUid, thick.seriesUid],
          { timeout: 120_000 },
        );
        return p;
      };
      const first = await opened();
      const firstEntries = await resourceEntries(first);
      const firstBatches = pixelDataRequests.get(first)!;
      // Every slice of both stacks is in Cornerstone's cache.
      const cached = await first.evaluate(() => {
        const hook = window.__viewer as unknown as ViewerHook & { core: { cache: { getImage(id: string): unknown } } };
        return hook.viewer.grid.cells.map((c) => c.viewport!.getImageIds().filter((id) => hook.core.cache.getImage(id) !== undefined).length);
      });
      expect(cached).toEqual([40, 10]);
      await first.close();
      // Only the slice each viewport shows first is its own frame request: the first frame
      // was asked for early, before the viewer's scripts ran, and the image loader's own
      // request for it was then answered by the browser's HTTP cache; the thick series'
      // first frame once. The other 39 + 9 slices came in batches of up to 25 instances:
      // two Pixel Data requests for the thin series, one for the thick.
      const byPath = new Map<string, typeof firstEntries>();
      for (const e of firstEntries.filter((x) => x.path.includes('/frames/'))) byPath.set(e.path, [...(byPath.get(e.path) ?? []), e]);
      expect([...byPath.keys()].map((p) => p.split('/')[5]).sort()).toEqual([thin.seriesUid, thick.seriesUid].sort());
      const twice = [...byPath.values()].filter((list) => list.length > 1);
      expect(twice.length).toBe(1);
      expect(twice[0].map((e) => e.transferSize > 0).sort()).toEqual([false, true]);
      expect(firstBatches.map((path) => path.split('/')[5]).sort()).toEqual([thin.seriesUid, thin.seriesUid, thick.seriesUid].sort());
      // Each batch asked for once, each slice in one of them.
      expect(new Set(firstBatches).size).toBe(3);
      const batchedSops = firstBatches.flatMap((u) => decodeURIComponent(new URL(u, base).searchParams.get('instances') ?? '').split(','));
      expect(batchedSops.length).toBe(39 + 9);
      expect(new Set(batchedSops).size).toBe(39 + 9);
      const viewerScript = scripts.find((s) => /^\/assets\/viewer-[\w-]+\.js$/.test(s.path));
      expect(viewerScript, JSON.stringify(scripts)).toBeDefined();
      for (const s of scripts) {
        expect(s.cacheControl, s.path).toBe('public, max-age=31536000, immutable');
        // Under a kilobyte, compression is not worth its headers (scripts/precompress.ts).
        expect(s.encoding, s.path).toBe(s.bytes < 1024 ? undefined : 'br');
      }

      // Resource timing of the second opening: what came from the cache has no transfer size.
      const second = await opened();
      const entries = await resourceEntries(second);
      const frames = entries.filter((e) => e.path.includes('/frames/'));
      expect(new Set(frames.map((e) => e.path)).size).toBe(2);
      expect(frames.filter((e) => e.transferSize > 0)).toEqual([]);
      expect(pixelDataRequests.get(second)!.length).toBe(3);
      const bundles = entries.filter((e) => e.path.startsWith('/assets/'));
      expect(bundles.length).toBeGreaterThan(0);
      expect(bundles.filter((e) => e.transferSize > 0)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('applies a CT window preset', async () => {
    await page.selectOption('#wl-preset', { label: 'Lung -600/1500' });
    const voi = await page.evaluate(() => window.__viewer!.viewer.grid.cells[0].viewport!.getProperties().voiRange!);
    expect(Math.abs((voi.upper + voi.lower) / 2 - -600)).toBeLessThanOrEqual(1);
    expect(Math.abs(voi.upper - voi.lower - 1500)).toBeLessThanOrEqual(1);
    // The readout says the window the preset names, exactly (not 1499: PS3.3 C.11.2.1.2's
    // linear function spans width - 1 between its end points).
    await expect.poll(() => page.textContent('.viewport-cell[data-index="0"] .overlay')).toContain('W: 1500 L: -600');
    await page.click('#toolbar button[data-op="reset"]');
  });

  it('changes the rendered pixels with a W/L drag', async () => {
    await v.selectTool('WindowLevel');
    const before = await v.canvasStats(0);
    const voiBefore = await page.evaluate(() => window.__viewer!.viewer.grid.cells[0].viewport!.getProperties().voiRange);
    const c = await v.pagePoint(0, [0, 0, 0]);
    await v.drag(c, { x: c.x + 120, y: c.y + 60 });
    await expect.poll(async () => Math.abs((await v.canvasStats(0)).mean - before.mean)).toBeGreaterThan(5);
    const voiAfter = await page.evaluate(() => window.__viewer!.viewer.grid.cells[0].viewport!.getProperties().voiRange);
    expect(voiAfter!.upper - voiAfter!.lower).not.toBeCloseTo(voiBefore!.upper - voiBefore!.lower, 0);
    await page.click('#toolbar button[data-op="reset"]');
  });

  it('measures a known length with Pixel Spacing', async () => {
    // Mouse events land on whole CSS pixels: zoom in so that rounding stays well under 0.5 mm
    // (one canvas pixel is then about 0.25 mm).
    await page.evaluate(() => {
      const vp = window.__viewer!.viewer.grid.cells[0].viewport!;
      vp.setZoom(2);
      vp.render();
    });
    await v.selectTool('Length');
    const z = ctSliceZ(thin.phantom, 0);
    await v.drag(await v.pagePoint(0, [-50, 20, z]), await v.pagePoint(0, [10, 20, z]));
    const [stats] = await v.settledToolStats('Length', (s) => s[0]?.length !== undefined);
    expect(Math.abs((stats.length as number) - 60)).toBeLessThan(0.5);
    expect(stats.unit).toBe('mm');
    await page.click('#toolbar button[data-op="reset"]');
  });

  it('reports the Hounsfield mean of ROIs over water and air', async () => {
    await v.selectTool('EllipticalROI');
    const z = ctSliceZ(thin.phantom, 0);
    await v.drag(await v.pagePoint(0, [-70, -60, z]), await v.pagePoint(0, [-50, -40, z])); // water (0 HU), away from the length's text
    await v.drag(await v.pagePoint(0, [-8, -152, z]), await v.pagePoint(0, [8, -146, z])); // air ring between the cylinder and the FOV (-1000 HU)
    const [water, air] = await v.settledToolStats('EllipticalROI', (s) => s.filter((x) => x.mean !== undefined).length === 2);
    expect(water.mean).toBeCloseTo(0, 1);
    expect(water.stdDev).toBeCloseTo(0, 1);
    expect(water.modalityUnit).toBe('HU');
    expect(air.mean).toBeCloseTo(-1000, 1);
    expect(air.area as number).toBeGreaterThan(0);
  });

  it('probes the bone rod, and measures a rectangle over water and a right angle', async () => {
    const z = ctSliceZ(thin.phantom, 0);
    await v.selectTool('Probe');
    const bone = await v.pagePoint(0, [thin.phantom.boneX, thin.phantom.boneY, z]);
    await page.mouse.click(bone.x, bone.y);
    await expect.poll(async () => (await v.toolStats('Probe'))[0]?.value).toBe(1000);
    expect((await v.toolStats('Probe'))[0].modalityUnit).toBe('HU');

    await v.selectTool('RectangleROI');
    await v.drag(await v.pagePoint(0, [20, 60, z]), await v.pagePoint(0, [40, 80, z]));
    await expect.poll(async () => (await v.toolStats('RectangleROI'))[0]?.mean).toBe(0);
    // 20 mm x 20 mm, within a pixel's rounding at each edge.
    expect(Math.abs(((await v.toolStats('RectangleROI'))[0].area as number) - 400)).toBeLessThan(40);

    await v.selectTool('Angle');
    await v.drag(await v.pagePoint(0, [-80, 90, z]), await v.pagePoint(0, [-60, 90, z]));
    const third = await v.pagePoint(0, [-60, 110, z]);
    await page.mouse.move(third.x, third.y, { steps: 5 });
    await v.frames();
    await page.mouse.click(third.x, third.y);
    await expect.poll(async () => typeof (await v.toolStats('Angle'))[0]?.angle).toBe('number');
    expect(Math.abs(((await v.toolStats('Angle'))[0].angle as number) - 90)).toBeLessThan(1);
  });

  it('saves the measurements as a DICOM SR and restores them when the study is opened again', async () => {
    const before = { length: (await v.toolStats('Length'))[0].length as number, ellipses: (await v.toolStats('EllipticalROI')).length };
    await page.click('#save-measurements');
    await expect.poll(() => page.textContent('#viewer-status'), { timeout: 30_000 }).toMatch(/^\d+ measurement\(s\) saved$/);
    // The report is in the archive as a new SR series of the study, and it is not hung.
    const sr = await (await fetch(`${base}/dicomweb/studies/${thin.studyUid}/series?Modality=SR`, { headers: { cookie: await v.sessionCookie() } })).json();
    expect(sr).toHaveLength(1);
    await page.reload();
    await page.waitForFunction(() => window.__viewer?.ready === true, null, { timeout: 60_000 });
    // Listed as a report to read (as text), not hung as images.
    expect(await page.$$eval('#series-panel .series-item:not(.derived-item)', (els) => els.length)).toBe(2);
    expect(await page.$$eval('#series-panel .derived-sr', (els) => els.length)).toBe(1);
    await expect.poll(() => page.textContent('#viewer-status')).toMatch(/6 saved measurement\(s\) restored/);
    // Restored on the same image: the tools recompute their statistics when drawn.
    await expect.poll(async () => (await v.toolStats('Length'))[0]?.length, { timeout: 30_000 }).toBeDefined();
    expect(Math.abs(((await v.toolStats('Length'))[0].length as number) - before.length)).toBeLessThan(0.01);
    await expect.poll(async () => (await v.toolStats('EllipticalROI')).filter((s) => s.mean !== undefined).length).toBe(before.ellipses);
    const means = (await v.toolStats('EllipticalROI')).map((s) => s.mean as number).sort((a, b) => a - b);
    expect(means[0]).toBeCloseTo(-1000, 1);
    expect(means[1]).toBeCloseTo(0, 1);
    await expect.poll(async () => (await v.toolStats('Probe'))[0]?.value).toBe(1000);
    await expect.poll(async () => typeof (await v.toolStats('Angle'))[0]?.angle).toBe('number');
    expect(Math.abs(((await v.toolStats('Angle'))[0].angle as number) - 90)).toBeLessThan(1);
    await expect.poll(async () => (await v.toolStats('RectangleROI'))[0]?.mean).toBe(0);
  });

  it('scrolls the second viewport to the slice at the same position', async () => {
    await v.selectTool('WindowLevel');
    const c = await v.pagePoint(0, [0, 0, 0]);
    await page.mouse.click(c.x, c.y); // makes viewport 0 active
    await page.keyboard.press('Home');
    await expect.poll(() => v.sliceIndex(1)).toBe(0);
    // Thin slice 8 is at z = 10 mm: thick slice 4 (an index-proportional sync would give 2).
    for (let k = 0; k < 8; k++) await page.keyboard.press('ArrowDown');
    await expect.poll(() => v.sliceIndex(0)).toBe(8);
    await expect.poll(() => v.sliceIndex(1)).toBe(4);
    expect(ctSliceZ(thick.phantom, 4)).toBe(ctSliceZ(thin.phantom, 8));
    // Off: the second viewport stays.
    await page.click('#sync-scroll');
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => v.sliceIndex(0)).toBe(9);
    expect(await v.sliceIndex(1)).toBe(4);
    await page.click('#sync-scroll');
  });

  it('advances frames with cine', async () => {
    await page.fill('#cine-fps', '20');
    const start = await v.sliceIndex(0);
    const seen = new Set<number>([start]);
    await page.click('#cine-play');
    await expect
      .poll(
        async () => {
          seen.add(await v.sliceIndex(0));
          return seen.size;
        },
        { timeout: 30_000 },
      )
      .toBeGreaterThanOrEqual(4);
    await page.click('#cine-play');
    expect(await page.textContent('#cine-play')).toBe('Play');
  });

  it('shows a series dragged from the panel onto a viewport', async () => {
    await page.dragAndDrop(`#series-panel .series-item[data-series="${thick.seriesUid}"]`, '.viewport-cell[data-index="0"]');
    await expect.poll(() => page.getAttribute('.viewport-cell[data-index="0"]', 'data-series')).toBe(thick.seriesUid);
    await expect.poll(() => page.evaluate(() => window.__viewer!.viewer.grid.cells[0].viewport!.getImageIds().length)).toBe(10);
    await page.dragAndDrop(`#series-panel .series-item[data-series="${thin.seriesUid}"]`, '.viewport-cell[data-index="0"]');
    await expect.poll(() => page.evaluate(() => window.__viewer!.viewer.grid.cells[0].viewport!.getImageIds().length)).toBe(40);
  });

  it('changes the layout and keeps the hanging', async () => {
    await page.click('#toolbar button[data-layout="2x2"]');
    expect(await page.$$eval('.viewport-cell', (els) => els.length)).toBe(4);
    expect(await page.getAttribute('.viewport-cell[data-index="0"]', 'data-series')).toBe(thin.seriesUid);
    await page.fill('#layout-rows', '1');
    await page.fill('#layout-cols', '3');
    await page.click('#layout-custom');
    expect(await page.getAttribute('#viewport-grid', 'data-layout')).toBe('1x3');
    expect(await page.$$eval('.viewport-cell', (els) => els.length)).toBe(3);
  });

  it('says so when a study is not in the archive, and stays usable', async () => {
    await page.goto(`${base}/viewer?StudyInstanceUIDs=1.2.3.4&archive=workstation`);
    await page.waitForFunction(() => window.__viewer?.ready === true, null, { timeout: 60_000 });
    expect(await page.textContent('#series-panel .panel-error')).toMatch(/study 1\.2\.3\.4: /);
    await page.click('#toolbar button[data-layout="2x2"]');
    expect(await page.$$eval('.viewport-cell', (els) => els.length)).toBe(4);
  });

  it('shows a series without geometry in instance order, and says so in a note, without orientation markers', async () => {
    await page.goto(`${base}/viewer?StudyInstanceUIDs=${flat.studyUid}`);
    await page.waitForFunction(() => window.__viewer?.ready === true, null, { timeout: 60_000 });
    await expect
      .poll(() => page.textContent('.viewport-cell[data-index="0"] .viewport-note'))
      .toMatch(/no image position\/orientation: ordered by instance number/);
    expect(await page.textContent('.viewport-cell[data-index="0"] .viewport-message')).toBe('');
    await expect.poll(() => page.evaluate(() => window.__viewer!.viewer.grid.cells[0].viewport?.getImageIds().length)).toBe(5);
    await expect.poll(async () => (await v.canvasStats(0)).nonBlack, { timeout: 30_000 }).toBeGreaterThan(0.2);
    await page.keyboard.press('End');
    await expect.poll(() => v.sliceIndex(0)).toBe(4);
    expect(await page.$$eval('.viewport-cell[data-index="0"] .orientation', (els) => els.map((e) => e.textContent))).toEqual(['', '', '', '']);
  });

  it('labels lengths calibrated with Imager Pixel Spacing', async () => {
    await page.goto(`${base}/viewer?StudyInstanceUIDs=${projection.studyUid}`);
    await page.waitForFunction(() => window.__viewer?.ready === true, null, { timeout: 60_000 });
    await expect.poll(async () => (await v.canvasStats(0)).nonBlack, { timeout: 30_000 }).toBeGreaterThan(0.2);
    await page.evaluate(() => {
      const vp = window.__viewer!.viewer.grid.cells[0].viewport!;
      vp.setZoom(2);
      vp.render();
    });
    await v.selectTool('Length');
    const z = ctSliceZ(projection.phantom, 0);
    await v.drag(await v.pagePoint(0, [-50, 20, z]), await v.pagePoint(0, [10, 20, z]));
    await expect.poll(async () => (await v.toolStats('Length'))[0]?.length).toBeDefined();
    const [stats] = await v.toolStats('Length');
    expect(Math.abs((stats.length as number) - 60)).toBeLessThan(0.5);
    expect(stats.unit).toBe('mm Proj');
  });

  it('says which image cannot be decoded and still shows the others', async () => {
    await page.goto(`${base}/viewer?StudyInstanceUIDs=${broken.studyUid}`);
    await page.waitForFunction(() => window.__viewer?.ready === true, null, { timeout: 60_000 });
    await expect.poll(() => page.textContent('.viewport-cell[data-index="0"] .viewport-note'), { timeout: 30_000 }).toBe('1 of 3 images cannot be displayed');
    await v.selectTool('WindowLevel');
    await page.keyboard.press('End');
    await expect.poll(() => v.sliceIndex(0)).toBe(2);
    await expect.poll(async () => (await v.canvasStats(0)).nonBlack, { timeout: 30_000 }).toBeGreaterThan(0.2);
    expect(await page.textContent('.viewport-cell[data-index="0"] .viewport-message')).toBe('');
    await page.keyboard.press('ArrowUp'); // onto the broken slice: a message, not a crash
    await expect.poll(() => page.textContent('.viewport-cell[data-index="0"] .viewport-message')).toMatch(/^Cannot decode image 2: \S+/);
    await page.click('#toolbar button[data-layout="2x2"]');
    expect(await page.$$eval('.viewport-cell', (els) => els.length)).toBe(4);
  });

  it('says so when the open study is deleted, and stays usable', async () => {
    await page.goto(`${base}/viewer?StudyInstanceUIDs=${doomed.studyUid}`);
    await page.waitForFunction(() => window.__viewer?.ready === true, null, { timeout: 60_000 });
    await expect.poll(async () => (await v.canvasStats(0)).nonBlack, { timeout: 30_000 }).toBeGreaterThan(0.2);
    const status = await page.evaluate(async (st) => (await fetch(`/api/studies/${st}`, { method: 'DELETE' })).status, doomed.studyUid);
    expect(status).toBe(200);
    // A long stack would not stay cached: evict it, as the caches would (Cornerstone's and the
    // browser's HTTP cache, which keeps frames as immutable), then scroll.
    await page.evaluate(() => (window.__viewer as unknown as { core: { cache: { purgeCache(): void } } }).core.cache.purgeCache());
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.clearBrowserCache');
    await cdp.detach();
    await page.keyboard.press('End');
    await expect
      .poll(() => page.textContent('.viewport-cell[data-index="0"] .viewport-message'), { timeout: 30_000 })
      .toMatch(/^Cannot load image 6: .*(not in the archive|404)/);
    // The rest of the viewer still works.
    await page.click('#toolbar button[data-layout="1x2"]');
    expect(await page.$$eval('.viewport-cell', (els) => els.length)).toBe(2);
  });
});
