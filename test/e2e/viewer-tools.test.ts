/**
 * The 2D viewer's other tools in headless chromium against `pacs serve` (issue #8), on a
 * CT phantom study of an axial series and a sagittal reformat of it (same frame of
 * reference): reference lines of the active axial slice drawn on the sagittal viewport
 * where the geometry puts them, following the scroll; rotate, flip and invert change the
 * rendered pixels and the orientation markers as they should, reset undoes them; Cobb
 * angle, bidirectional, arrow with text, ellipse and freehand ROI read known values, and
 * all of them come back from the DICOM SR with the same points and statistics.
 */
import { decode } from 'fast-png';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ctPixelPosition, ctRegion, ctSagittalX, ctSliceZ, writeCtSeries, type CtSeriesResult } from '../../scripts/gen-test-data.js';
import { makeTempDir } from '../support/tmp.js';
import { startViewer, stopViewer, type Point, type ViewerHook, type ViewerPage } from './viewer-fixture.js';

declare const window: { __viewer?: ViewerHook };

let v: ViewerPage;
let page: Page;
let axial: CtSeriesResult; // 40 slices of 1.25 mm, 256 x 256
let sagittal: CtSeriesResult; // 5 sagittal slices 5 mm apart through the same volume
const SAGITTAL_COUNT = 5;
const SAGITTAL_SPACING = 5;

type World = [number, number, number];

/** Centroid (canvas pixels) of viewport `i`'s pixels brighter than `threshold` (the bone rod at the default window). */
function brightCentroid(i: number, threshold = 200): Promise<Point & { n: number }> {
  return page.evaluate(
    ({ index, t }) => {
      const canvas = window.__viewer!.viewer.grid.cells[index].element.querySelector('canvas')!;
      const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
      let sx = 0;
      let sy = 0;
      let n = 0;
      for (let p = 0; p < data.length; p += 4) {
        if ((data[p] + data[p + 1] + data[p + 2]) / 3 <= t) continue;
        const k = p / 4;
        sx += k % canvas.width;
        sy += Math.floor(k / canvas.width);
        n++;
      }
      return { x: sx / n + 0.5, y: sy / n + 0.5, n };
    },
    { index: i, t: threshold },
  );
}

/** Mean grey of the 7 x 7 canvas pixels around a canvas point of viewport `i`. */
function patchMean(i: number, at: Point): Promise<number> {
  return page.evaluate(
    ({ index, x, y }) => {
      const canvas = window.__viewer!.viewer.grid.cells[index].element.querySelector('canvas')!;
      const { data } = canvas.getContext('2d')!.getImageData(Math.round(x) - 3, Math.round(y) - 3, 7, 7);
      let sum = 0;
      for (let p = 0; p < data.length; p += 4) sum += (data[p] + data[p + 1] + data[p + 2]) / 3;
      return sum / (data.length / 4);
    },
    { index: i, x: at.x, y: at.y },
  );
}

const markers = (i: number) =>
  page.evaluate((index) => {
    const q = (edge: string) =>
      (globalThis as unknown as { document: { querySelector(s: string): { textContent: string } | null } }).document.querySelector(
        `.viewport-cell[data-index="${index}"] .orientation.${edge}`,
      )?.textContent ?? '';
    return { left: q('left'), top: q('top'), right: q('right'), bottom: q('bottom') };
  }, i);

/** The SVG lines drawn over viewport `i` (canvas coordinates). */
function svgLines(i: number): Promise<Array<{ x1: number; y1: number; x2: number; y2: number }>> {
  return page.evaluate((index) => {
    const lines = window.__viewer!.viewer.grid.cells[index].element.querySelectorAll('svg line');
    return Array.from(lines, (l) => ({
      x1: Number(l.getAttribute('x1')),
      y1: Number(l.getAttribute('y1')),
      x2: Number(l.getAttribute('x2')),
      y2: Number(l.getAttribute('y2')),
    }));
  }, i);
}

/** Screen pixels (what the user sees: image and SVG annotations) of viewport `i`'s canvas area. */
async function screenPixels(i: number): Promise<{ width: number; height: number; rgba: (x: number, y: number) => [number, number, number] }> {
  const clip = await page.evaluate((index) => {
    const r = window.__viewer!.viewer.grid.cells[index].viewport!.canvas.getBoundingClientRect();
    return { x: r.left, y: r.top, width: r.width, height: r.height };
  }, i);
  const png = decode(await page.screenshot({ clip }));
  const channels = png.channels;
  return {
    width: png.width,
    height: png.height,
    rgba: (x, y) => {
      const o = (Math.round(y) * png.width + Math.round(x)) * channels;
      return [png.data[o], png.data[o + 1], png.data[o + 2]];
    },
  };
}

/** How many pixels of row `y` between x0 and x1 are coloured (the image itself is grey). */
function colouredInRow(px: Awaited<ReturnType<typeof screenPixels>>, y: number, x0: number, x1: number): number {
  let n = 0;
  for (let x = Math.ceil(Math.min(x0, x1)); x <= Math.floor(Math.max(x0, x1)); x++) {
    const [r, g, b] = px.rgba(x, y);
    if (Math.max(r, g, b) - Math.min(r, g, b) > 60) n++;
  }
  return n;
}

const dist = (a: World, b: World) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);

beforeAll(async () => {
  const dir = await makeTempDir('pacs-viewer-tools-e2e-');
  axial = await writeCtSeries({ dir: join(dir, 'ct'), count: 40, rows: 256, cols: 256, seriesDescription: 'axial' });
  sagittal = await writeCtSeries({
    dir: join(dir, 'ct'),
    count: SAGITTAL_COUNT,
    sliceThickness: SAGITTAL_SPACING,
    sagittalOf: axial.phantom,
    frameOfReferenceUid: axial.frameOfReferenceUid,
    studyUid: axial.studyUid,
    patientId: axial.patientId,
    seriesNumber: 2,
    seriesDescription: 'sagittal',
  });
  v = await startViewer({ dir, files: [...axial.files, ...sagittal.files] });
  page = v.page;
});

afterAll(() => stopViewer(v));

describe('viewer tools', () => {
  it('hangs the axial series and its sagittal reformat side by side', async () => {
    await v.open(axial.studyUid);
    await page.waitForFunction(() => window.__viewer!.viewer.grid.cells.every((c) => (c.viewport?.getImageIds().length ?? 0) > 0), null, { timeout: 60_000 });
    expect(await page.evaluate(() => window.__viewer!.viewer.grid.cells.map((c) => c.viewport!.getImageIds().length))).toEqual([40, SAGITTAL_COUNT]);
    await expect.poll(async () => (await v.canvasStats(1)).nonBlack, { timeout: 30_000 }).toBeGreaterThan(0.05);
    expect(await markers(0)).toEqual({ left: 'R', top: 'A', right: 'L', bottom: 'P' });
    expect(await markers(1)).toEqual({ left: 'A', top: 'H', right: 'P', bottom: 'F' });
  });

  it('draws the active axial slice as a line on the sagittal viewport, and moves it with the scroll', async () => {
    await v.selectTool('WindowLevel');
    const c = await v.pagePoint(0, [0, 0, 0]);
    await page.mouse.click(c.x, c.y); // viewport 0 active
    await page.check('#reference-lines');
    await page.keyboard.press('Home');
    for (const slice of [8, 30]) {
      while ((await v.sliceIndex(0)) < slice) await page.keyboard.press('ArrowDown');
      expect(await v.sliceIndex(0)).toBe(slice);
      const z = ctSliceZ(axial.phantom, slice);
      // The axial plane z cuts the sagittal image along a row, from its anterior to its posterior edge.
      const half = ((axial.phantom.rows - 1) / 2) * axial.phantom.pixelSpacing;
      const x = ctSagittalX(SAGITTAL_COUNT, SAGITTAL_SPACING, await v.sliceIndex(1));
      const [from, to] = [await v.canvasPoint(1, [x, -half, z]), await v.canvasPoint(1, [x, half, z])];
      await expect
        .poll(async () => (await svgLines(1)).filter((l) => Math.abs(l.y1 - from.y) < 1 && Math.abs(l.y2 - from.y) < 1).length, { timeout: 30_000 })
        .toBe(1);
      // Cornerstone draws it across the axial viewport's whole canvas: at least across the image.
      const [line] = (await svgLines(1)).filter((l) => Math.abs(l.y1 - from.y) < 1);
      expect(Math.min(line.x1, line.x2)).toBeLessThan(from.x + 1);
      expect(Math.max(line.x1, line.x2)).toBeGreaterThan(to.x - 1);
      // And it is on the screen: coloured pixels along that row, none a few rows away.
      const px = await screenPixels(1);
      const onLine = Math.max(...[-1, 0, 1].map((d) => colouredInRow(px, from.y + d, from.x, to.x)));
      expect(onLine).toBeGreaterThan(0.8 * (to.x - from.x));
      expect(colouredInRow(px, from.y - 6, from.x, to.x) + colouredInRow(px, from.y + 6, from.x, to.x)).toBe(0);
    }
    // The axial viewport draws no line of its own plane.
    expect(await svgLines(0)).toEqual([]);
    await page.uncheck('#reference-lines');
    await expect.poll(async () => (await svgLines(1)).length).toBe(0);
    await page.keyboard.press('Home');
  });

  it('rotates, flips and inverts the rendered image and its orientation markers, and resets', async () => {
    const z = ctSliceZ(axial.phantom, 0);
    await expect.poll(() => v.sliceIndex(0)).toBe(0);
    const centre = await v.canvasPoint(0, [0, 0, z]);
    const bone = await v.canvasPoint(0, [axial.phantom.boneX, axial.phantom.boneY, z]);
    const water = await v.canvasPoint(0, [-50, 50, z]);
    // The bone rod (patient's left, anterior) is up and right of the centre.
    const original = await brightCentroid(0);
    expect(original.n).toBeGreaterThan(50);
    expect(Math.hypot(original.x - bone.x, original.y - bone.y)).toBeLessThan(2);
    expect(bone.x).toBeGreaterThan(centre.x);
    expect(bone.y).toBeLessThan(centre.y);
    const op = async (name: string) => {
      await page.click(`#toolbar button[data-op="${name}"]`);
      await v.frames();
    };
    const near = async (x: number, y: number) =>
      expect
        .poll(async () => {
          const p = await brightCentroid(0);
          return Math.hypot(p.x - x, p.y - y);
        })
        .toBeLessThan(2);
    // Clockwise a quarter turn: right goes down, up goes right.
    await op('rotate-right');
    await near(centre.x - (bone.y - centre.y), centre.y + (bone.x - centre.x));
    expect(await markers(0)).toEqual({ left: 'P', top: 'R', right: 'A', bottom: 'L' });
    await op('rotate-left');
    await near(bone.x, bone.y);
    expect(await markers(0)).toEqual({ left: 'R', top: 'A', right: 'L', bottom: 'P' });
    await op('flip-h');
    await near(2 * centre.x - bone.x, bone.y);
    expect(await markers(0)).toEqual({ left: 'L', top: 'A', right: 'R', bottom: 'P' });
    await op('flip-h');
    await op('flip-v');
    await near(bone.x, 2 * centre.y - bone.y);
    expect(await markers(0)).toEqual({ left: 'R', top: 'P', right: 'L', bottom: 'A' });
    await op('flip-v');
    await near(bone.x, bone.y);
    // Invert: water (40/400 window: 40 % grey) and bone (white) turn into their complements.
    const before = { water: await patchMean(0, water), bone: await patchMean(0, bone) };
    expect(before.bone).toBeGreaterThan(250);
    expect(Math.abs(before.water - 0.4 * 255)).toBeLessThan(3);
    await op('invert');
    await expect.poll(() => patchMean(0, bone)).toBeLessThan(5);
    expect(Math.abs((await patchMean(0, water)) - (255 - before.water))).toBeLessThan(3);
    // Reset after a turn, a flip and the inversion: the original picture and markers.
    await op('rotate-right');
    await op('flip-h');
    await op('reset');
    await near(bone.x, bone.y);
    expect(await markers(0)).toEqual({ left: 'R', top: 'A', right: 'L', bottom: 'P' });
    expect(Math.abs((await patchMean(0, water)) - before.water)).toBeLessThan(3);
    expect(await page.evaluate(() => window.__viewer!.viewer.grid.cells[0].viewport!.getProperties().invert ?? false)).toBe(false);
  });

  it('zooms with the right button and the Zoom tool, pans with the middle button and the Pan tool, about the pointer', async () => {
    await page.click('#toolbar button[data-op="reset"]');
    await v.selectTool('WindowLevel');
    await expect.poll(() => v.sliceIndex(0)).toBe(0);
    const z = ctSliceZ(axial.phantom, 0);
    const boneWorld: World = [axial.phantom.boneX, axial.phantom.boneY, z];
    const zoomReadout = async () => Number(/Zoom: (\d+)%/.exec((await page.textContent('.viewport-cell[data-index="0"] .overlay')) ?? '')?.[1]);
    await expect.poll(zoomReadout).toBe(100);
    const dragWith = async (button: 'left' | 'right' | 'middle', from: Point, dx: number, dy: number) => {
      await page.mouse.move(from.x, from.y);
      await page.mouse.down({ button });
      await v.frames();
      for (let k = 1; k <= 10; k++) await page.mouse.move(from.x + (dx * k) / 10, from.y + (dy * k) / 10);
      await v.frames();
      await page.mouse.up({ button });
      await v.frames();
    };
    // Where the bone rod's centre is drawn (canvas pixels), by the viewport's geometry and by the pixels themselves.
    const boneDrawn = async () => ({ geometry: await v.canvasPoint(0, boneWorld), pixels: await brightCentroid(0) });
    const expectBoneAt = async (x: number, y: number) => {
      await expect
        .poll(async () => {
          const { geometry, pixels } = await boneDrawn();
          return Math.max(Math.hypot(geometry.x - x, geometry.y - y), Math.hypot(pixels.x - x, pixels.y - y));
        })
        .toBeLessThan(2);
    };
    // Pan: the image follows the pointer exactly, with either binding.
    const start = await v.canvasPoint(0, boneWorld);
    const grip = await v.pagePoint(0, [-40, 40, z]); // water, away from the rod
    await dragWith('middle', grip, 60, 40);
    await expectBoneAt(start.x + 60, start.y + 40);
    await v.selectTool('Pan');
    await dragWith('left', await v.pagePoint(0, [-40, 40, z]), -30, 20);
    await expectBoneAt(start.x + 30, start.y + 60);
    expect(await zoomReadout()).toBe(100);
    // Zoom: dragging down enlarges about the point pressed, which stays where it is; the
    // rod's distance from it grows by the ratio the readout shows.
    const anchorWorld: World = [-20, 20, z];
    const anchor = await v.canvasPoint(0, anchorWorld);
    const before = await v.canvasPoint(0, boneWorld);
    await dragWith('right', await v.pagePoint(0, anchorWorld), 0, 120);
    await expect.poll(zoomReadout).toBeGreaterThan(120);
    const zoomed = (await zoomReadout()) / 100;
    const anchorAfter = await v.canvasPoint(0, anchorWorld);
    expect(Math.hypot(anchorAfter.x - anchor.x, anchorAfter.y - anchor.y)).toBeLessThan(2);
    // The readout is rounded to a whole per cent: 1 % of the rod's ~100 px distance.
    await expectBoneAt(anchor.x + (before.x - anchor.x) * zoomed, anchor.y + (before.y - anchor.y) * zoomed);
    // The Zoom tool on the left button: dragging up makes it smaller again.
    await v.selectTool('Zoom');
    await dragWith('left', await v.pagePoint(0, anchorWorld), 0, -80);
    await expect.poll(zoomReadout).toBeLessThan(Math.round(zoomed * 100));
    // No menu was opened by the right button's drag.
    expect(await page.locator('.context-menu:visible').count()).toBe(0);
    // Reset: fitted again, 100 %, the rod where it started.
    await page.click('#toolbar button[data-op="reset"]');
    await expect.poll(zoomReadout).toBe(100);
    await expectBoneAt(start.x, start.y);
    await v.selectTool('WindowLevel');
  });

  const z0 = () => ctSliceZ(axial.phantom, 0);

  it('measures a Cobb angle between two lines at known angles', async () => {
    // Mouse events land on whole CSS pixels: at zoom 2 one is about 0.25 mm.
    await v.zoom(0, 2);
    await v.selectTool('CobbAngle');
    const z = z0();
    // The first line along +x, the second from (-35, -50) to (-75, -30): the tool measures
    // between the first line's direction and the second's reversed, (40, -20): atan(1/2).
    await v.drag(await v.pagePoint(0, [-75, -70, z]), await v.pagePoint(0, [-35, -70, z]));
    await v.drag(await v.pagePoint(0, [-35, -50, z]), await v.pagePoint(0, [-75, -30, z]));
    const [cobb] = await v.settledToolStats('CobbAngle', (s) => typeof s[0]?.angle === 'number');
    expect(Math.abs((cobb.angle as number) - (Math.atan(0.5) * 180) / Math.PI)).toBeLessThan(1);
  });

  it('measures the long and short axes of a bidirectional', async () => {
    await v.selectTool('Bidirectional');
    const z = z0();
    // A 60 mm long axis; the tool starts the short axis across its middle at two thirds of it.
    await v.drag(await v.pagePoint(0, [-75, 10, z]), await v.pagePoint(0, [-15, 10, z]));
    const [stats] = await v.settledToolStats('Bidirectional', (s) => typeof s[0]?.width === 'number');
    expect(Math.abs((stats.length as number) - 60)).toBeLessThan(0.5);
    expect(Math.abs((stats.width as number) - 40)).toBeLessThan(0.5);
    expect(stats.unit).toBe('mm');
  });

  it('puts an arrow with the text typed for it (in the page dialog)', async () => {
    await v.selectTool('ArrowAnnotate');
    const z = z0();
    await v.drag(await v.pagePoint(0, [10, -75, z]), await v.pagePoint(0, [40, -55, z]));
    await page.fill('#text-dialog-input', 'lesion A');
    await page.press('#text-dialog-input', 'Enter');
    await expect.poll(async () => (await v.annotations('ArrowAnnotate'))[0]?.label).toBe('lesion A');
  });

  it('measures the area of a known ellipse', async () => {
    await v.selectTool('EllipticalROI');
    const z = z0();
    // A 40 mm x 20 mm ellipse in water: dragged from its centre to a corner of its bounding box.
    await v.drag(await v.pagePoint(0, [30, 50, z]), await v.pagePoint(0, [50, 60, z]));
    const [ellipse] = await v.settledToolStats('EllipticalROI', (s) => s[0]?.mean === 0);
    const area = ellipse.area as number;
    expect(Math.abs(area - Math.PI * 20 * 10) / (Math.PI * 20 * 10)).toBeLessThan(0.03);
  });

  it('measures a freehand ROI drawn around a known region', async () => {
    await v.selectTool('PlanarFreehandROI');
    const z = z0();
    // A 50 mm x 30 mm rectangle of water around the bone rod (1000 HU), traced and closed on its first corner.
    const [x0, x1, y0, y1] = [20, 70, -50, -20];
    const corners: World[] = [
      [x0, y0, z],
      [x1, y0, z],
      [x1, y1, z],
      [x0, y1, z],
      [x0, y0, z],
    ];
    const [first, ...rest] = await Promise.all(corners.map((w) => v.pagePoint(0, w)));
    await v.drag(first, ...rest);
    const [stats] = await v.settledToolStats('PlanarFreehandROI', (s) => typeof s[0]?.mean === 'number');
    expect(Math.abs((stats.area as number) - 1500) / 1500).toBeLessThan(0.02);
    // The phantom's pixels whose centres are inside: the mean is the bone's share of 1000 HU.
    const p = axial.phantom;
    let inside = 0;
    let bone = 0;
    for (let r = 0; r < p.rows; r++) {
      for (let c = 0; c < p.cols; c++) {
        const { x, y } = ctPixelPosition(p, r, c);
        if (x < x0 || x > x1 || y < y0 || y > y1) continue;
        inside++;
        if (ctRegion(p, 0, r, c) === 'bone') bone++;
      }
    }
    const mean = (1000 * bone) / inside;
    expect(bone).toBeGreaterThan(50);
    expect(Math.abs((stats.mean as number) - mean) / mean).toBeLessThan(0.05);
    expect(stats.max).toBe(1000);
    expect(stats.min).toBe(0);
    expect(Math.abs((stats.stdDev as number) - Math.sqrt(mean * (1000 - mean))) / Math.sqrt(mean * (1000 - mean))).toBeLessThan(0.05);
    expect(stats.modalityUnit).toBe('HU');
    const [roi] = await v.annotations('PlanarFreehandROI');
    expect(roi.contour!.closed).toBe(true);
    expect(roi.contour!.polyline.length).toBeGreaterThan(10);
  });

  it('saves all of them as a DICOM SR and restores them with the same points and statistics', async () => {
    const tools = ['CobbAngle', 'Bidirectional', 'ArrowAnnotate', 'EllipticalROI', 'PlanarFreehandROI'];
    const before = new Map<string, { annotations: Awaited<ReturnType<ViewerPage['annotations']>>; stats: Array<Record<string, number | string>> }>();
    for (const t of tools) before.set(t, { annotations: await v.annotations(t), stats: await v.toolStats(t) });
    await v.saveAndReopen(tools.length);
    for (const t of tools) {
      const was = before.get(t)!;
      await expect.poll(async () => (await v.annotations(t)).length, { timeout: 30_000 }).toBe(1);
      const [now] = await v.annotations(t);
      const [then] = was.annotations;
      expect(now.handles.points.length, t).toBe(then.handles.points.length);
      now.handles.points.forEach((p, k) => expect(dist(p, then.handles.points[k]), `${t} point ${k}`).toBeLessThan(0.001));
      expect(now.label ?? '', t).toBe(then.label ?? '');
    }
    const [contourNow] = await v.annotations('PlanarFreehandROI');
    const contourThen = before.get('PlanarFreehandROI')!.annotations[0].contour!;
    expect(contourNow.contour!.closed).toBe(true);
    expect(contourNow.contour!.polyline.length).toBe(contourThen.polyline.length);
    contourNow.contour!.polyline.forEach((p, k) => expect(dist(p, contourThen.polyline[k])).toBeLessThan(0.001));
    // The tools recompute their statistics when they draw the restored annotations.
    const same = async (tool: string, keys: string[]) => {
      const [now] = await v.settledToolStats(tool, (s) => typeof s[0]?.[keys[0]] === 'number');
      const [then] = before.get(tool)!.stats;
      for (const k of keys) expect(Math.abs((now[k] as number) - (then[k] as number)), `${tool} ${k}`).toBeLessThan(0.01);
    };
    await same('CobbAngle', ['angle']);
    await same('Bidirectional', ['length', 'width']);
    await same('EllipticalROI', ['area', 'mean', 'stdDev']);
    await same('PlanarFreehandROI', ['area', 'mean', 'stdDev', 'min', 'max']);
  });
});
