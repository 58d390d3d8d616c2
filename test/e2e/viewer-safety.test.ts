/**
 * The 2D viewer's "safe display" (issue 20) in headless chromium against `pacs serve`, as a
 * reader would see it:
 *  - orientation markers on a CT (orientation in the header) and none on a US or a
 *    whole-body NM without one, and no banner over those images;
 *  - "Loc" from the image position, not a stale Slice Location;
 *  - a corrupt JPEG 2000 frame named in its own viewport ("Cannot decode image 2: ..."),
 *    no "NaN" readout, the next image of the series and the other viewport unharmed;
 *  - measurements selected by a click and deleted with the Delete key, the context menu
 *    and the measurement list, the deletions still in force after reopening the study;
 *  - an arrow's text typed into a dialog in the page (no prompt());
 *  - linear interpolation of a zoomed image (no pixel blocks);
 *  - orientation markers, window and slab readouts on the MPR planes;
 *  - the Query/Retrieve panel leaving every toolbar control uncovered.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ctBoneRadius, ctSliceZ, writeCtSeries, type CtSeriesResult } from '../../scripts/gen-test-data.js';
import { runDcmtk } from '../support/peers.js';
import { makeTempDir } from '../support/tmp.js';
import { writeJ2kVariant } from '../web/pixel-fixtures.js';
import { startViewer, stopViewer, type ViewerHook, type ViewerPage } from './viewer-fixture.js';

interface ElementLike {
  getBoundingClientRect(): { left: number; top: number; width: number; height: number; bottom: number };
  contains(other: unknown): boolean;
  matches(selector: string): boolean;
  outerHTML: string;
}
declare const window: { __viewer?: ViewerHook; __viewer3d?: { ready: boolean; error?: string; page: { setSlab(mode: string, thickness: number): void } } };
declare const document: {
  querySelector(selector: string): ElementLike | null;
  querySelectorAll(selector: string): ArrayLike<ElementLike>;
  elementFromPoint(x: number, y: number): ElementLike | null;
};
declare function getComputedStyle(el: unknown): { visibility: string; display: string };

let v: ViewerPage;
let page: Page;
let base: string;
let ct: CtSeriesResult; // 12 axial slices whose Slice Location all say 999 (stale)
let us: CtSeriesResult; // one image, Modality US, no Image Position/Orientation
let nm: CtSeriesResult; // one image, Modality NM (a whole-body scan), no Image Position/Orientation; same study as `us`
let j2k: CtSeriesResult; // 3 slices as JPEG 2000, the second's codestream destroyed
let good: CtSeriesResult; // 3 uncompressed slices, the same study as `j2k`

/** Overwrites everything after the SOC marker of the file's JPEG 2000 codestream: no decoder can read it, the archive still stores it. */
async function corruptJ2k(file: string): Promise<void> {
  const bytes = await readFile(file);
  const soc = bytes.indexOf(Buffer.from([0xff, 0x4f, 0xff, 0x51]));
  expect(soc).toBeGreaterThan(0);
  const length = bytes.readUInt32LE(soc - 4); // the fragment's item length
  for (let k = soc + 2; k < soc + length; k++) bytes[k] = (k * 37) & 0x7f;
  await writeFile(file, bytes);
}

/** Stores files as they are (STOW-RS: a C-STORE would negotiate their transfer syntax away). */
async function stow(files: string[]): Promise<void> {
  const boundary = 'safety-test-boundary';
  const parts: Buffer[] = [];
  for (const f of files) parts.push(Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), await readFile(f), Buffer.from('\r\n'));
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  const res = await fetch(`${base}/dicomweb/studies`, {
    method: 'POST',
    headers: {
      cookie: await v.sessionCookie(),
      'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
      accept: 'application/dicom+json',
    },
    body: Buffer.concat(parts),
  });
  expect(res.status, await res.clone().text()).toBe(200);
}

const cell = (i: number) => `.viewport-cell[data-index="${i}"]`;
const edges = (i: number) => page.$$eval(`${cell(i)} .orientation`, (els) => els.map((e) => e.textContent ?? ''));
const markers = async (root: string) =>
  Object.fromEntries(await page.$$eval(`${root} .orientation`, (els) => els.map((e) => [e.getAttribute('data-edge'), e.textContent ?? ''])));
/** What the viewport's message says, '' when it is not shown. */
const visibleMessage = (i: number) =>
  page.$eval(`${cell(i)} .viewport-message`, (e) => {
    const style = getComputedStyle(e);
    return (e as unknown as { hidden: boolean }).hidden || style.display === 'none' ? '' : (e.textContent ?? '');
  });
const canvasVisibility = (i: number) => page.$eval(`${cell(i)} canvas`, (c) => getComputedStyle(c).visibility);
const listItems = () => page.$$eval('#measurement-list .measurement-item', (els) => els.map((e) => e.getAttribute('data-tool')));

/** The viewer ready (a loaded machine: generous, never a threshold). */
const ready = () => page.waitForFunction(() => window.__viewer?.ready === true, null, { timeout: 180_000 });

async function reopen(studyUid: string): Promise<void> {
  await page.goto(`${base}/viewer?StudyInstanceUIDs=${studyUid}`);
  await ready();
  await page.waitForFunction(() => window.__viewer!.viewer.grid.cells.every((c) => !c.viewport || c.viewport.getImageIds().length > 0), null, {
    timeout: 60_000,
  });
}

beforeAll(async () => {
  const dir = await makeTempDir('pacs-viewer-safety-');
  ct = await writeCtSeries({ dir: join(dir, 'ct'), count: 12, rows: 128, cols: 128, seriesDescription: 'stale slice location' });
  const stale = await runDcmtk('dcmodify', ['-nb', '-i', '(0020,1041)=999', ...ct.files]);
  expect(stale.code, stale.stderr).toBe(0);
  us = await writeCtSeries({ dir: join(dir, 'us'), count: 1, rows: 128, cols: 128, seriesNumber: 1, seriesDescription: 'ultrasound' });
  nm = await writeCtSeries({
    dir: join(dir, 'nm'),
    count: 1,
    rows: 128,
    cols: 128,
    studyUid: us.studyUid,
    patientId: us.patientId,
    seriesNumber: 2,
    seriesDescription: 'whole body',
  });
  for (const [files, modality, sopClass] of [
    [us.files, 'US', '1.2.840.10008.5.1.4.1.1.6.1'],
    [nm.files, 'NM', '1.2.840.10008.5.1.4.1.1.20'],
  ] as const) {
    const r = await runDcmtk('dcmodify', [
      '-nb',
      '-ea',
      '(0020,0032)',
      '-ea',
      '(0020,0037)',
      '-ea',
      '(0020,0052)',
      '-m',
      `(0008,0060)=${modality}`,
      '-m',
      `(0008,0016)=${sopClass}`,
      ...files,
    ]);
    expect(r.code, r.stderr).toBe(0);
  }
  j2k = await writeCtSeries({ dir: join(dir, 'j2k-src'), count: 3, rows: 128, cols: 128, seriesNumber: 1, seriesDescription: 'jpeg 2000, one bad frame' });
  good = await writeCtSeries({
    dir: join(dir, 'good'),
    count: 3,
    rows: 128,
    cols: 128,
    studyUid: j2k.studyUid,
    patientId: j2k.patientId,
    seriesNumber: 2,
    seriesDescription: 'uncompressed',
  });
  const j2kFiles: string[] = [];
  for (const [k, f] of j2k.files.entries()) j2kFiles.push(await writeJ2kVariant(f, join(dir, `j2k-${k}.dcm`), 'jpeg2000'));
  await corruptJ2k(j2kFiles[1]);
  v = await startViewer({ dir, files: [...ct.files, ...us.files, ...nm.files, ...good.files] });
  page = v.page;
  base = v.base;
  await page.goto(`${base}/viewer?StudyInstanceUIDs=${ct.studyUid}`);
  await page.waitForSelector('#login-password', { timeout: 60_000 });
  await v.login();
  await ready();
  await stow(j2kFiles);
}, 300_000);

afterAll(() => stopViewer(v));

describe('safe 2D display', { timeout: 300_000 }, () => {
  it('marks the edges of an oriented image, and gives Loc from the position, not a stale Slice Location', async () => {
    await reopen(ct.studyUid);
    await expect.poll(async () => (await v.canvasStats(0)).nonBlack, { timeout: 30_000 }).toBeGreaterThan(0.2);
    expect(await markers(cell(0))).toEqual({ left: 'R', right: 'L', top: 'A', bottom: 'P' });
    const overlay = () => page.textContent(`${cell(0)} .overlay`);
    await expect.poll(overlay).toContain(`Loc: ${ctSliceZ(ct.phantom, 0)} mm`);
    expect(await overlay()).not.toContain('999');
    const centre = await v.pagePoint(0, [0, 0, 0]);
    await page.mouse.click(centre.x, centre.y);
    for (let k = 0; k < 5; k++) await page.keyboard.press('ArrowDown');
    await expect.poll(() => v.sliceIndex(0)).toBe(5);
    await expect.poll(overlay).toContain(`Loc: ${ctSliceZ(ct.phantom, 5)} mm`); // 6.25 mm
    expect(ctSliceZ(ct.phantom, 5)).toBe(6.25);
  });

  it('puts no orientation markers and no banner on a US and a whole-body NM without orientation', async () => {
    await reopen(us.studyUid);
    expect(await page.getAttribute('#viewport-grid', 'data-layout')).toBe('1x2');
    for (const i of [0, 1]) {
      await expect.poll(async () => (await v.canvasStats(i)).nonBlack, { timeout: 30_000 }).toBeGreaterThan(0.2);
      expect(await edges(i)).toEqual(['', '', '', '']);
      expect(await visibleMessage(i)).toBe('');
      expect(await page.textContent(`${cell(i)} .viewport-note`)).toBe('');
      // The image itself is what is at the viewport's centre: nothing drawn over it.
      const hit = await page.evaluate(
        (sel) => {
          const r = document.querySelector(sel)!.getBoundingClientRect();
          return document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2)?.matches('.cs-element, .cs-element *') ?? false;
        },
        `${cell(i)} .cs-element`,
      );
      expect(hit).toBe(true);
    }
    expect(await page.textContent(`${cell(0)} .overlay`)).not.toContain('Loc:');
  });

  it('names a JPEG 2000 frame that cannot be decoded in its own viewport, and shows the next image and the other viewport', async () => {
    await reopen(j2k.studyUid);
    expect(await page.getAttribute(cell(0), 'data-series')).toBe(j2k.seriesUid);
    // The first image (valid JPEG 2000) is shown.
    await expect.poll(async () => (await v.canvasStats(0)).nonBlack, { timeout: 30_000 }).toBeGreaterThan(0.2);
    await page.click('#sync-scroll'); // the other viewport stays where it is
    const centre = await v.pagePoint(0, [0, 0, 0]);
    await page.mouse.click(centre.x, centre.y);
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => v.sliceIndex(0)).toBe(1);
    await expect.poll(() => visibleMessage(0), { timeout: 30_000 }).toMatch(/^Cannot decode image 2: \S.*/);
    // Not the previous image's pixels under image 2's number, and no "NaN" readout.
    expect(await canvasVisibility(0)).toBe('hidden');
    const overlay = (await page.textContent(`${cell(0)} .overlay`)) ?? '';
    expect(overlay).toContain('Im: 2/3');
    expect(overlay).not.toContain('NaN');
    expect(overlay).not.toMatch(/W: /);
    // The other viewport: its image, no message.
    expect(await visibleMessage(1)).toBe('');
    expect((await v.canvasStats(1)).nonBlack).toBeGreaterThan(0.2);
    expect(await page.textContent(`${cell(1)} .overlay`)).toMatch(/W: \d+ L: -?\d+/);
    // The next image of the series is shown, with its window.
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => v.sliceIndex(0)).toBe(2);
    await expect.poll(() => visibleMessage(0), { timeout: 30_000 }).toBe('');
    expect(await canvasVisibility(0)).toBe('visible');
    await expect.poll(async () => (await v.canvasStats(0)).nonBlack, { timeout: 30_000 }).toBeGreaterThan(0.2);
    const after = (await page.textContent(`${cell(0)} .overlay`)) ?? '';
    expect(after).toContain('Im: 3/3');
    expect(after).toMatch(/W: \d+ L: -?\d+/);
    expect(after).not.toContain('NaN');
    expect(await page.textContent(`${cell(0)} .viewport-note`)).toBe('1 of 3 images cannot be displayed');
    // Back onto it: named again.
    await page.keyboard.press('ArrowUp');
    await expect.poll(() => visibleMessage(0)).toMatch(/^Cannot decode image 2: /);
    await page.click('#sync-scroll');
  });

  it('zooms with linear interpolation: no blocks of equal pixels across an edge', async () => {
    await reopen(ct.studyUid);
    await expect.poll(async () => (await v.canvasStats(0)).nonBlack, { timeout: 30_000 }).toBeGreaterThan(0.2);
    await v.zoom(0, 2); // 128 pixels of 2.7 mm over the canvas: over 10 screen pixels per image pixel
    // A window holding both materials unsaturated (-100..1100 HU): the whole ramp between them is seen.
    await page.evaluate(() => {
      const vp = window.__viewer!.viewer.grid.cells[0].viewport! as unknown as { setProperties(p: unknown): void; render(): void };
      vp.setProperties({ voiRange: { lower: -100, upper: 1100 } });
      vp.render();
    });
    await v.frames();
    const p = ct.phantom;
    const z = ctSliceZ(p, 0);
    const edgeX = p.boneX + ctBoneRadius(p, 0); // the bone rod's edge (1000 HU) in water (0 HU)
    const from = await v.canvasPoint(0, [edgeX - 12, p.boneY, z]);
    const to = await v.canvasPoint(0, [edgeX + 12, p.boneY, z]);
    const readRow = () =>
      page.evaluate(
        ({ from, to }) => {
          const canvas = window.__viewer!.viewer.grid.cells[0].viewport!.canvas;
          const y = Math.round(from.y);
          const { data } = canvas.getContext('2d')!.getImageData(Math.round(from.x), y, Math.round(to.x - from.x), 1);
          const out: number[] = [];
          for (let k = 0; k < data.length; k += 4) out.push((data[k] + data[k + 1] + data[k + 2]) / 3);
          return out;
        },
        { from, to },
      );
    const maxStep = (r: number[]) => Math.max(...r.slice(1).map((g, k) => Math.abs(g - r[k])));
    const row = await readRow();
    expect(row.length).toBeGreaterThan(60);
    // The edge is crossed: bone (about 233) on the left, water (about 21) on the right.
    expect(Math.max(...row) - Math.min(...row), JSON.stringify(row)).toBeGreaterThan(180);
    // Nearest neighbour would jump the whole contrast (~210) between two screen pixels;
    // linear interpolation spreads it over the 10+ pixels between two image pixels' centres.
    expect(maxStep(row), JSON.stringify(row)).toBeLessThan(60);
    // The measure tells the two apart: nearest neighbour (asked for here) jumps.
    const setInterpolation = (type: number) =>
      page.evaluate((t) => {
        const vp = window.__viewer!.viewer.grid.cells[0].viewport! as unknown as { setProperties(p: unknown): void; render(): void };
        vp.setProperties({ interpolationType: t });
        vp.render();
      }, type);
    await setInterpolation(0); // Enums.InterpolationType.NEAREST
    await expect.poll(async () => maxStep(await readRow())).toBeGreaterThan(150);
    await setInterpolation(1); // LINEAR
    await expect.poll(async () => maxStep(await readRow())).toBeLessThan(60);
  });

  it('asks for an arrow text in the page, not with prompt()', async () => {
    let prompted = false;
    const onDialog = (d: { dismiss(): Promise<void> }) => {
      prompted = true;
      void d.dismiss();
    };
    page.on('dialog', onDialog);
    try {
      await page.click('#toolbar button[data-op="reset"]');
      await v.selectTool('ArrowAnnotate');
      const z = ctSliceZ(ct.phantom, 0);
      await v.drag(await v.pagePoint(0, [-60, 40, z]), await v.pagePoint(0, [-30, 60, z]));
      await page.waitForSelector('#text-dialog-input', { state: 'visible' });
      await page.fill('#text-dialog-input', 'lesion B');
      await page.press('#text-dialog-input', 'Enter');
      await expect.poll(async () => (await v.annotations('ArrowAnnotate'))[0]?.label).toBe('lesion B');
      expect(await page.$('#text-dialog')).toBeNull();
      // Cancel on a new arrow: no arrow.
      await v.drag(await v.pagePoint(0, [-60, -40, z]), await v.pagePoint(0, [-30, -60, z]));
      await page.waitForSelector('#text-dialog-input', { state: 'visible' });
      await page.click('#text-dialog-cancel');
      await expect.poll(async () => (await v.annotations('ArrowAnnotate')).length).toBe(1);
      expect(prompted).toBe(false);
    } finally {
      page.off('dialog', onDialog);
    }
  });

  it('selects and deletes measurements (Delete key, context menu, list), and the deletions stay deleted', async () => {
    await reopen(ct.studyUid);
    await expect.poll(async () => (await v.canvasStats(0)).nonBlack, { timeout: 30_000 }).toBeGreaterThan(0.2);
    const z = ctSliceZ(ct.phantom, 0);
    await v.selectTool('Length');
    await v.drag(await v.pagePoint(0, [-60, 20, z]), await v.pagePoint(0, [0, 20, z]));
    await v.selectTool('Probe');
    const probeAt = await v.pagePoint(0, [ct.phantom.boneX, ct.phantom.boneY, z]);
    await page.mouse.click(probeAt.x, probeAt.y);
    await expect.poll(async () => (await v.toolStats('Probe'))[0]?.value).toBe(1000);
    await v.selectTool('RectangleROI');
    await v.drag(await v.pagePoint(0, [20, 60, z]), await v.pagePoint(0, [40, 80, z]));
    await expect
      .poll(listItems, {
        message: JSON.stringify(
          await page.evaluate(() =>
            window
              .__viewer!.tools.annotation.state.getAllAnnotations()
              .map((a) => [a.metadata.toolName, (a.metadata as { referencedImageId?: string }).referencedImageId]),
          ),
        ),
      })
      .toEqual(['Length', 'Probe', 'RectangleROI']);
    expect(await page.textContent('#measurement-list')).toMatch(/Length\s+60\.\d mm/);
    await v.saveAndReopen(3);
    await expect.poll(listItems).toEqual(['Length', 'Probe', 'RectangleROI']);

    // A click on the length's line selects it (the list shows which); Delete deletes it.
    await v.selectTool('WindowLevel');
    const onLine = await v.pagePoint(0, [-30, 20, z]);
    await page.mouse.click(onLine.x, onLine.y);
    await expect
      .poll(() => page.$$eval('#measurement-list .measurement-item.selected', (els) => els.map((e) => e.getAttribute('data-tool'))))
      .toEqual(['Length']);
    await page.keyboard.press('Delete');
    await expect.poll(listItems).toEqual(['Probe', 'RectangleROI']);
    expect(await v.annotations('Length')).toEqual([]);
    await expect
      .poll(() => page.textContent('#viewer-status'), { timeout: 30_000 })
      .toMatch(/^1 measurement\(s\) deleted; report saved with 2 measurement\(s\)$/);

    // The context menu of the probe (a right click that does not drag).
    const probe = await v.pagePoint(0, [ct.phantom.boneX, ct.phantom.boneY, z]);
    await page.mouse.click(probe.x, probe.y, { button: 'right' });
    await page.click('#context-menu button[data-action="delete-measurement"]');
    await expect.poll(listItems).toEqual(['RectangleROI']);
    expect(await page.$('#context-menu')).toBeNull();
    await expect.poll(() => page.textContent('#viewer-status'), { timeout: 30_000 }).toMatch(/report saved with 1 measurement\(s\)$/);

    // Reopened: only the rectangle comes back.
    await reopen(ct.studyUid);
    await expect.poll(() => page.textContent('#viewer-status'), { timeout: 30_000 }).toBe('1 saved measurement(s) restored');
    await expect.poll(listItems).toEqual(['RectangleROI']);

    // The list's delete button removes the last one; reopened, none comes back.
    await page.click('#measurement-list .measurement-item[data-tool="RectangleROI"] .measurement-delete');
    await expect.poll(listItems).toEqual([]);
    await expect.poll(() => page.textContent('#viewer-status'), { timeout: 30_000 }).toMatch(/report saved with 0 measurement\(s\)$/);
    await reopen(ct.studyUid);
    expect(await listItems()).toEqual([]);
    expect(await page.evaluate(() => window.__viewer!.tools.annotation.state.getAllAnnotations().length)).toBe(0);
    expect(await page.textContent('#measurement-list')).toContain('none');
  });

  it('keeps every toolbar control uncovered while the Query/Retrieve panel is open', async () => {
    for (const width of [1600, 900]) {
      await page.setViewportSize({ width, height: 900 });
      await reopen(ct.studyUid);
      await page.click('#qr-toggle');
      await page.waitForSelector('#qr-panel h3', { state: 'visible' }); // its content read (the AE registry)
      const covered = await page.evaluate(() => {
        const toolbar = document.querySelector('#toolbar')!;
        const out: string[] = [];
        for (const el of Array.from(document.querySelectorAll('#toolbar button, #toolbar select, #toolbar input'))) {
          const r = el.getBoundingClientRect();
          const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
          if (!hit || !(hit === el || el.contains(hit) || (toolbar.contains(hit) && hit.contains(el)))) out.push(el.outerHTML.slice(0, 80));
        }
        return out;
      });
      expect(covered).toEqual([]);
      // The panel is there, below the toolbar.
      const { toolbarBottom, panel } = await page.evaluate(() => {
        const r = document.querySelector('#qr-panel')!.getBoundingClientRect();
        return { toolbarBottom: document.querySelector('#toolbar')!.getBoundingClientRect().bottom, panel: { top: r.top, height: r.height } };
      });
      expect(panel.height).toBeGreaterThan(50);
      expect(panel.top).toBeGreaterThanOrEqual(toolbarBottom);
    }
    await page.setViewportSize({ width: 1600, height: 1000 });
  });
});

describe('MPR planes', { timeout: 300_000 }, () => {
  it('show orientation markers, the window and the slab', async () => {
    await page.goto(`${base}/viewer?StudyInstanceUIDs=${ct.studyUid}&mode=mpr`);
    await page.waitForFunction(() => window.__viewer3d?.ready === true, null, { timeout: 120_000 });
    expect(await page.evaluate(() => window.__viewer3d!.error)).toBeUndefined();
    const plane = (id: string) => `.viewport-cell[data-viewport="${id}"]`;
    await expect.poll(() => markers(plane('axial'))).toEqual({ left: 'R', right: 'L', top: 'A', bottom: 'P' });
    expect(await markers(plane('sagittal'))).toEqual({ left: 'A', right: 'P', top: 'H', bottom: 'F' });
    expect(await markers(plane('coronal'))).toEqual({ left: 'R', right: 'L', top: 'H', bottom: 'F' });
    for (const id of ['axial', 'sagittal', 'coronal']) {
      await expect.poll(() => page.textContent(`${plane(id)} .wl-readout`)).toBe('W: 400 L: 40');
      expect(await page.textContent(`${plane(id)} .slab-readout`)).toBe('Slab: thin');
    }
    await page.evaluate(() => window.__viewer3d!.page.setSlab('mip', 20));
    for (const id of ['axial', 'sagittal', 'coronal']) await expect.poll(() => page.textContent(`${plane(id)} .slab-readout`)).toBe('Slab: MIP 20 mm');
    await page.selectOption('#mpr-wl', { label: 'Lung -600/1500' });
    for (const id of ['axial', 'sagittal', 'coronal']) await expect.poll(() => page.textContent(`${plane(id)} .wl-readout`)).toBe('W: 1500 L: -600');
  });
});
