/**
 * The viewer's reading tools in headless chromium against `pacs serve` (issue #20): the
 * magnifier (a loupe at 3x centred on the pressed point), window presets (CT's in HU,
 * MR's from the image's range, the image's own from Window Center / Width / Explanation,
 * the user's own kept on the server), free text and polyline annotations saved in the SR
 * with rectangles and ellipses and restored on the same points.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ctRegion, ctSliceZ, ctStoredValue, writeCtSeries, type CtSeriesResult } from '../../scripts/gen-test-data.js';
import { runDcmtk } from '../support/peers.js';
import { makeTempDir } from '../support/tmp.js';
import { startViewer, stopViewer, type ViewerHook, type ViewerPage } from './viewer-fixture.js';

// The parts of the page read here (the tests' tsconfig has no DOM library).
interface MagnifyViewportLike {
  canvas: { width: number; height: number; getContext(t: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } };
  getCamera(): { parallelScale: number };
  worldToCanvas(w: [number, number, number]): [number, number];
}
interface PageWindow {
  __viewer?: ViewerHook & {
    viewer: {
      engine: { getViewport(id: string): MagnifyViewportLike | undefined };
      grid: { cells: Array<{ viewport?: { getCamera(): { parallelScale: number } } }> };
    };
  };
}
declare const window: PageWindow;
declare const document: { querySelector(s: string): { style: { display: string; width: string }; textContent: string } | null };

type World = [number, number, number];

let v: ViewerPage;
let dir: string;
let page: Page;
let ct: CtSeriesResult;
/** A second CT study for presentation states and key images (no measurements saved on it). */
let ct2: CtSeriesResult;
let mr: CtSeriesResult;
const MR_WINDOWS = [
  { center: 600, width: 1200, explanation: 'T1 SOFT' },
  { center: 1200, width: 2400, explanation: 'T1 WIDE' },
];

const dist = (a: World, b: World) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
const readout = (i = 0) => page.evaluate((index) => document.querySelector(`.viewport-cell[data-index="${index}"] .overlay-corner.br`)?.textContent ?? '', i);
const presetOptions = (group: string) =>
  page.$$eval(`#wl-preset optgroup[data-group="${group}"] option`, (os) => os.map((o) => (o as unknown as { textContent: string }).textContent));
const choosePreset = async (text: string) => {
  const value = await page.$eval(
    '#wl-preset',
    (s, t) => Array.from((s as unknown as { options: Array<{ textContent: string; value: string }> }).options).find((o) => o.textContent === t)?.value,
    text,
  );
  expect(value, text).toBeDefined();
  await page.selectOption('#wl-preset', value!);
};

beforeAll(async () => {
  dir = await makeTempDir('pacs-viewer-reading-e2e-');
  ct = await writeCtSeries({ dir: join(dir, 'ct'), count: 6, rows: 256, cols: 256 });
  mr = await writeCtSeries({
    dir: join(dir, 'mr'),
    count: 3,
    rows: 128,
    cols: 128,
    modality: 'MR',
    windows: MR_WINDOWS,
    patientId: 'PHANTOM-MR',
    seriesDescription: 'T1',
  });
  ct2 = await writeCtSeries({ dir: join(dir, 'ct2'), count: 6, rows: 256, cols: 256, patientId: 'PHANTOM-CT2', seriesDescription: 'second' });
  v = await startViewer({ dir, files: [...ct.files, ...mr.files, ...ct2.files] });
  page = v.page;
  // The first page load (login, scripts from a cold cache) takes long on a loaded machine.
  await page.goto(`${v.base}/viewer?StudyInstanceUIDs=${ct.studyUid}`);
  await page.waitForSelector('#login-password', { timeout: 120_000 });
  await v.login();
  await waitReady();
}, 400_000);

/** The viewer ready (the tests' machine is shared: longer than the fixture's minute). */
const waitReady = () => page.waitForFunction(() => window.__viewer?.ready === true, null, { timeout: 180_000 });

async function openStudy(uid: string): Promise<void> {
  await page.goto(`${v.base}/viewer?StudyInstanceUIDs=${uid}`);
  await waitReady();
}

async function reload(): Promise<void> {
  await page.reload();
  await waitReady();
}

afterAll(() => stopViewer(v));

describe('magnifier', { timeout: 400_000 }, () => {
  it('shows a 250 px loupe at 3x centred on the pressed point while the button is down', async () => {
    await openStudy(ct.studyUid);
    await expect.poll(async () => (await v.canvasStats(0)).nonBlack, { timeout: 30_000 }).toBeGreaterThan(0.05);
    await v.selectTool('Magnify');
    const p = ct.phantom;
    const bone: World = [p.boneX, p.boneY, ctSliceZ(p, 0)];
    const at = await v.pagePoint(0, bone);
    await page.mouse.move(at.x, at.y);
    await page.mouse.down();
    await expect.poll(() => page.evaluate(() => document.querySelector('.magnifyTool')?.style.display ?? 'none'), { timeout: 10_000 }).toBe('block');
    expect(await page.evaluate(() => document.querySelector('.magnifyTool')!.style.width)).toBe('250px');
    // Its camera: a third of the main viewport's parallel scale, focused on the bone rod's centre.
    await expect
      .poll(() =>
        page.evaluate(() => {
          const m = window.__viewer!.viewer.engine.getViewport('magnify-viewport')!;
          const main = window.__viewer!.viewer.grid.cells[0].viewport as unknown as {
            getCamera(): { parallelScale: number };
            element: { clientHeight: number };
          };
          // Parallel scale is half the height shown: the loupe's 250 px show a third of what 250 px of the viewport do.
          return (m.getCamera().parallelScale / main.getCamera().parallelScale) * (main.element.clientHeight / 250);
        }),
      )
      .toBeCloseTo(1 / 3, 6);
    const centre = await page.evaluate((w) => window.__viewer!.viewer.engine.getViewport('magnify-viewport')!.worldToCanvas(w), bone);
    // The press lands on a whole CSS pixel: up to half a pixel of the viewport, 1.5 of the loupe.
    expect(Math.abs(centre[0] - 125)).toBeLessThan(2);
    expect(Math.abs(centre[1] - 125)).toBeLessThan(2);
    // On screen: the rod (white at 40/400) fills the loupe's centre, three times as wide as in the image.
    const brightAcrossCentre = () =>
      page.evaluate(() => {
        const c = window.__viewer!.viewer.engine.getViewport('magnify-viewport')!.canvas;
        const row = Math.floor(c.height / 2);
        const { data } = c.getContext('2d').getImageData(0, row, c.width, 1);
        let n = 0;
        for (let x = 0; x < c.width; x++) if (data[x * 4] > 200) n++;
        return { n, width: c.width };
      });
    await expect.poll(async () => (await brightAcrossCentre()).n, { timeout: 10_000 }).toBeGreaterThan(0);
    const { n, width } = await brightAcrossCentre();
    const mainPxPerMm = await page.evaluate(
      ([a, b]) => {
        const vp = window.__viewer!.viewer.grid.cells[0].viewport as unknown as {
          worldToCanvas(w: World): [number, number];
          canvas: { width: number; clientWidth: number };
        };
        return ((vp.worldToCanvas(b)[0] - vp.worldToCanvas(a)[0]) / 10) * (vp.canvas.width / vp.canvas.clientWidth);
      },
      [bone, [bone[0] + 10, bone[1], bone[2]]] as [World, World],
    );
    // The rod's pixels on the image row through its centre, three times as wide in the loupe
    // (device pixels, the page's pixel ratio on both), give or take one image pixel.
    const row = Math.round(p.boneY / p.pixelSpacing + (p.rows - 1) / 2);
    let rodPixels = 0;
    for (let c = 0; c < p.cols; c++) if (ctRegion(p, 0, row, c) === 'bone') rodPixels++;
    const loupePxPerImagePx = 3 * mainPxPerMm * p.pixelSpacing;
    expect(rodPixels).toBeGreaterThan(3);
    expect(Math.abs(n - rodPixels * loupePxPerImagePx)).toBeLessThan(loupePxPerImagePx + 2);
    expect(n).toBeLessThan(width);
    await page.mouse.up();
    await expect.poll(() => page.evaluate(() => document.querySelector('.magnifyTool')?.style.display ?? 'none')).toBe('none');
  });
});

describe('window presets', { timeout: 400_000 }, () => {
  it('offers the MR image’s own windows by their explanation, and applying one sets the readout exactly', async () => {
    await openStudy(mr.studyUid);
    await expect.poll(async () => (await v.canvasStats(0)).nonBlack, { timeout: 30_000 }).toBeGreaterThan(0.05);
    await expect.poll(() => readout()).toMatch(/^W: 1200 L: 600/);
    await expect.poll(() => presetOptions('image')).toEqual(['T1 SOFT 600/1200', 'T1 WIDE 1200/2400']);
    await choosePreset('T1 WIDE 1200/2400');
    await expect.poll(() => readout()).toMatch(/^W: 2400 L: 1200Zoom/);
    await choosePreset('T1 SOFT 600/1200');
    await expect.poll(() => readout()).toMatch(/^W: 1200 L: 600Zoom/);
  });

  it('offers MR presets from the image’s range: full dynamic spans its smallest to largest value', async () => {
    const p = mr.phantom;
    let min = Infinity;
    let max = -Infinity;
    for (let r = 0; r < p.rows; r++)
      for (let c = 0; c < p.cols; c++) {
        const s = ctStoredValue(ctRegion(p, 0, r, c));
        min = Math.min(min, s);
        max = Math.max(max, s);
      }
    const full = `Full dynamic ${Math.round((min + max) / 2)}/${max - min}`;
    await expect.poll(() => presetOptions('modality')).toContain(full);
    expect((await presetOptions('modality')).length).toBe(4);
    await choosePreset(full);
    await expect.poll(() => readout()).toMatch(new RegExp(`^W: ${max - min} L: ${Math.round((min + max) / 2)}Zoom`));
  });

  it('saves the window shown as the user’s own preset, on the server, offered again after a reload for MR only', async () => {
    await choosePreset('T1 WIDE 1200/2400');
    await page.click('#wl-save-open');
    await page.fill('#wl-save-label', 'My wide');
    await page.click('#wl-save-submit');
    await expect.poll(() => page.textContent('#viewer-status')).toBe('W/L preset "My wide" saved');
    expect(await presetOptions('user')).toEqual(['My wide 1200/2400']);
    const stored = await page.evaluate(() => fetch('/api/me/window-presets').then((r) => r.json()));
    expect(stored).toEqual({ presets: [{ label: 'My wide', center: 1200, width: 2400, modality: 'MR' }] });
    await reload();
    await expect.poll(() => presetOptions('user'), { timeout: 30_000 }).toEqual(['My wide 1200/2400']);
    await choosePreset('T1 SOFT 600/1200');
    await choosePreset('My wide 1200/2400');
    await expect.poll(() => readout()).toMatch(/^W: 2400 L: 1200Zoom/);
    // A CT offers its HU presets and the image's one window, not the MR preset.
    await openStudy(ct.studyUid);
    await expect.poll(() => presetOptions('modality'), { timeout: 30_000 }).toContain('Lung -600/1500');
    expect(await presetOptions('image')).toEqual(['Header 1 40/400']);
    expect(await presetOptions('user')).toEqual([]);
    await choosePreset('Lung -600/1500');
    await expect.poll(() => readout()).toMatch(/^W: 1500 L: -600Zoom/);
  });
});

describe('text and shape annotations', { timeout: 400_000 }, () => {
  it('puts free text, a rectangle, an ellipse and a polyline, saves them in the SR and restores them on the same points', async () => {
    await openStudy(ct.studyUid);
    await expect.poll(async () => (await v.canvasStats(0)).nonBlack, { timeout: 30_000 }).toBeGreaterThan(0.05);
    await v.zoom(0, 2);
    const z = ctSliceZ(ct.phantom, 0);
    await v.selectTool('Label');
    const textAt = await v.pagePoint(0, [-40, 40, z]);
    await page.mouse.click(textAt.x, textAt.y);
    // Asked in the page (text-dialog.ts), not with prompt().
    await page.waitForSelector('#text-dialog-input', { state: 'visible' });
    await page.fill('#text-dialog-input', 'see prior');
    await page.press('#text-dialog-input', 'Enter');
    await expect.poll(async () => (await v.annotations('Label'))[0]?.label).toBe('see prior');
    const [text] = await v.annotations('Label');
    expect(dist(text.handles.points[0], [-40, 40, z])).toBeLessThan(0.5);

    await v.selectTool('RectangleROI');
    await v.drag(await v.pagePoint(0, [-70, -60, z]), await v.pagePoint(0, [-30, -40, z]));
    await expect.poll(async () => Math.abs(((await v.toolStats('RectangleROI'))[0]?.area as number) - 800)).toBeLessThan(16);
    await v.selectTool('EllipticalROI');
    await v.drag(await v.pagePoint(0, [30, 50, z]), await v.pagePoint(0, [50, 60, z]));
    await expect.poll(async () => typeof (await v.toolStats('EllipticalROI'))[0]?.area).toBe('number');

    await v.selectTool('Polyline');
    const vertices: World[] = [
      [-20, 60, z],
      [0, 70, z],
      [20, 60, z],
      [40, 75, z],
    ];
    const pts = await Promise.all(vertices.map((w) => v.pagePoint(0, w)));
    for (const q of pts.slice(0, -1)) {
      await page.mouse.click(q.x, q.y);
      await v.frames();
    }
    await page.mouse.dblclick(pts[3].x, pts[3].y);
    await v.frames();
    await expect.poll(async () => (await v.annotations('Polyline'))[0]?.handles.points.length).toBe(4);
    const [line] = await v.annotations('Polyline');
    line.handles.points.forEach((q, k) => expect(dist(q, vertices[k]), `vertex ${k}`).toBeLessThan(0.5));

    const before = {
      Label: await v.annotations('Label'),
      RectangleROI: await v.annotations('RectangleROI'),
      EllipticalROI: await v.annotations('EllipticalROI'),
      Polyline: await v.annotations('Polyline'),
    };
    await page.click('#save-measurements');
    await expect.poll(() => page.textContent('#viewer-status'), { timeout: 60_000 }).toBe('4 measurement(s) saved');
    await reload();
    await expect.poll(() => page.textContent('#viewer-status'), { timeout: 60_000 }).toBe('4 saved measurement(s) restored');
    for (const [tool, then] of Object.entries(before)) {
      await expect.poll(async () => (await v.annotations(tool)).length, { timeout: 30_000 }).toBe(1);
      const [now] = await v.annotations(tool);
      const points = tool === 'Label' ? then[0].handles.points.slice(0, 1) : then[0].handles.points;
      points.forEach((q, k) => expect(dist(now.handles.points[k], q), `${tool} point ${k}`).toBeLessThan(0.001));
      expect(now.label ?? '', tool).toBe(then[0].label ?? '');
    }
    expect((await v.annotations('Polyline'))[0].handles.points.length).toBe(4);
  });
});

// --- Presentation states and key images -----------------------------------------------

/** Stores a Part 10 file through the page's STOW-RS client (the logged-in session). */
async function stow(file: string, studyUid: string): Promise<void> {
  const b64 = (await readFile(file)).toString('base64');
  const r = await page.evaluate(
    async ({ data, study }) => {
      const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
      const client = (window.__viewer!.viewer as unknown as { client: { stow(f: unknown[], s: string): Promise<{ stored: string[] }> } }).client;
      return client.stow([bytes], study);
    },
    { data: b64, study: studyUid },
  );
  expect(r.stored).toHaveLength(1);
}

/** The newest instance of a modality in the study, as a file (WADO-URI, as stored). */
async function fetchNewest(studyUid: string, modality: string, name: string): Promise<{ file: string; sop: string }> {
  const b64 = await page.evaluate(
    async ({ study, mod }) => {
      const json = async (u: string) => (await fetch(u, { headers: { accept: 'application/dicom+json' } })).json();
      const series = (await json(`/dicomweb/studies/${study}/series?Modality=${mod}`)) as Array<Record<string, { Value: string[] }>>;
      const all: Array<{ series: string; sop: string; date: string }> = [];
      for (const s of series) {
        const uid = s['0020000E'].Value[0];
        for (const i of (await json(`/dicomweb/studies/${study}/series/${uid}/metadata`)) as Array<Record<string, { Value?: string[] }>>)
          all.push({ series: uid, sop: i['00080018'].Value![0], date: `${i['00080012']?.Value?.[0] ?? ''}${i['00080013']?.Value?.[0] ?? ''}` });
      }
      all.sort((a, b) => b.date.localeCompare(a.date));
      const n = all[0];
      const res = await fetch(`/dicomweb/wado?requestType=WADO&studyUID=${study}&seriesUID=${n.series}&objectUID=${n.sop}&contentType=application/dicom`);
      const buf = new Uint8Array(await res.arrayBuffer());
      let bin = '';
      for (const b of buf) bin += String.fromCharCode(b);
      return { data: btoa(bin), sop: n.sop, count: all.length };
    },
    { study: studyUid, mod: modality },
  );
  const file = join(dir, name);
  await writeFile(file, Buffer.from(b64.data, 'base64'));
  return { file, sop: b64.sop };
}

/** Centroid (canvas CSS pixels) of viewport 0's pixels brighter than `threshold`. */
function brightCentroid(threshold: number): Promise<{ x: number; y: number; n: number }> {
  return page.evaluate((t) => {
    const vp = window.__viewer!.viewer.grid.cells[0].viewport as unknown as {
      canvas: {
        width: number;
        height: number;
        clientWidth: number;
        getContext(k: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
      };
    };
    const c = vp.canvas;
    const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
    let sx = 0;
    let sy = 0;
    let n = 0;
    for (let p = 0; p < data.length; p += 4) {
      if ((data[p] + data[p + 1] + data[p + 2]) / 3 <= t) continue;
      const k = p / 4;
      sx += k % c.width;
      sy += Math.floor(k / c.width);
      n++;
    }
    const ratio = c.width / c.clientWidth;
    return { x: (sx / n + 0.5) / ratio, y: (sy / n + 0.5) / ratio, n };
  }, threshold);
}

const canvasSize = () =>
  page.evaluate(() => {
    // The size Cornerstone draws in (its buffer over the pixel ratio), as the centroid is measured.
    const c = (window.__viewer!.viewer.grid.cells[0].viewport as unknown as { canvas: { width: number; height: number; clientWidth: number } }).canvas;
    const ratio = c.width / c.clientWidth;
    return { w: c.width / ratio, h: c.height / ratio };
  });
const readingStatus = () => page.textContent('#reading-status');

describe('grayscale softcopy presentation states', { timeout: 400_000 }, () => {
  it('applies a GSPS made by DCMTK (dcmpsmk, checked by dcmpschk) when the series opens: window, rotation, flip, area, annotations', async () => {
    const ps = join(dir, 'dcmtk-ps.dcm');
    const made = await runDcmtk('dcmpsmk', ['+Vw', ...ct2.files, ps]);
    expect(made.code, made.stderr).toBe(0);
    // What a workstation's reader would change: a lung window, a quarter turn and a flip,
    // the central quarter of the image, a text and a line on the first image.
    const first = ct2.sopInstanceUids[0];
    const edit = await runDcmtk('dcmodify', [
      '-nb',
      '-m',
      '(0028,3110)[*].(0028,1050)=-600',
      '-m',
      '(0028,3110)[*].(0028,1051)=1500',
      '-i',
      '(0070,0042)=90',
      '-i',
      '(0070,0041)=Y',
      '-m',
      '(0070,005a)[*].(0070,0052)=65\\65',
      '-m',
      '(0070,005a)[*].(0070,0053)=192\\192',
      '-i',
      `(0070,0001)[0].(0008,1140)[0].(0008,1150)=1.2.840.10008.5.1.4.1.1.2`,
      '-i',
      `(0070,0001)[0].(0008,1140)[0].(0008,1155)=${first}`,
      '-i',
      '(0070,0001)[0].(0070,0002)=DCMTK',
      '-i',
      '(0070,0001)[0].(0070,0008)[0].(0070,0006)=DCMTK NOTE',
      '-i',
      '(0070,0001)[0].(0070,0008)[0].(0070,0004)=PIXEL',
      '-i',
      '(0070,0001)[0].(0070,0008)[0].(0070,0014)=100.5\\60.5',
      '-i',
      '(0070,0001)[0].(0070,0008)[0].(0070,0015)=N',
      '-i',
      '(0070,0001)[0].(0070,0009)[0].(0070,0005)=PIXEL',
      '-i',
      '(0070,0001)[0].(0070,0009)[0].(0070,0020)=2',
      '-i',
      '(0070,0001)[0].(0070,0009)[0].(0070,0021)=3',
      '-i',
      '(0070,0001)[0].(0070,0009)[0].(0070,0022)=80\\180\\100\\200\\120\\180',
      '-i',
      '(0070,0001)[0].(0070,0009)[0].(0070,0023)=POLYLINE',
      '-i',
      '(0070,0060)[0].(0070,0002)=DCMTK',
      '-i',
      '(0070,0060)[0].(0070,0062)=1',
      ps,
    ]);
    expect(edit.code, edit.stderr).toBe(0);
    const check = await runDcmtk('dcmpschk', [ps]);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    expect(check.stdout + check.stderr).toMatch(/Test passed/);
    expect(check.stdout + check.stderr).not.toMatch(/^E:|Test failed/m);

    await openStudy(ct2.studyUid);
    await stow(ps, ct2.studyUid);
    await openStudy(ct2.studyUid);
    await expect.poll(readingStatus, { timeout: 30_000 }).toBe('presentation state "UNNAMED" applied, 2 annotation(s)');
    await expect.poll(() => readout()).toMatch(/^W: 1500 L: -600Zoom/);
    // The displayed area (128 of 256 pixels) fits the canvas; rotated a quarter clockwise, then
    // flipped: the rod at (x, y) mm from the centre shows at (y, x) (rotation (x, y) -> (-y, x), flip -> (y, x)).
    const p = ct2.phantom;
    const { w, h } = await canvasSize();
    const mmPerPx = Math.max((128 * p.pixelSpacing) / w, (128 * p.pixelSpacing) / h);
    const rod = await brightCentroid(250);
    expect(rod.n).toBeGreaterThan(20);
    expect(await page.evaluate(() => window.__viewer!.viewer.grid.cells[0].viewport!.getCamera().parallelScale)).toBeCloseTo((mmPerPx * h) / 2, 6);
    expect(Math.abs(rod.x - (w / 2 + p.boneY / mmPerPx))).toBeLessThan(2);
    expect(Math.abs(rod.y - (h / 2 + p.boneX / mmPerPx))).toBeLessThan(2);
    const [text] = await v.annotations('Label');
    expect(text.label).toBe('DCMTK NOTE');
    // Pixel (100.5, 60.5): the centre of column 100, row 60 (0-based).
    const at = (c: number, r: number): World => [(c - 0.5 - (p.cols - 1) / 2) * p.pixelSpacing, (r - 0.5 - (p.rows - 1) / 2) * p.pixelSpacing, ctSliceZ(p, 0)];
    expect(dist(text.handles.points[0], at(100.5, 60.5))).toBeLessThan(0.01);
    const [line] = await v.annotations('Polyline');
    expect(line.handles.points.length).toBe(3);
    expect(dist(line.handles.points[1], at(100, 200))).toBeLessThan(0.01);
  });

  it('saves the display as a GSPS that dcmpschk accepts, and opens the series with it next time', async () => {
    await choosePreset('Bone 480/2500');
    await page.click('#toolbar button[data-op="rotate-left"]');
    await page.click('#toolbar button[data-op="invert"]');
    await v.frames();
    const scaleBefore = await page.evaluate(() => window.__viewer!.viewer.grid.cells[0].viewport!.getCamera().parallelScale);
    await page.click('#save-gsps');
    await expect.poll(readingStatus, { timeout: 30_000 }).toBe('display saved as a presentation state with 2 annotation(s)');
    const { file } = await fetchNewest(ct2.studyUid, 'PR', 'viewer-ps.dcm');
    const check = await runDcmtk('dcmpschk', [file]);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    expect(check.stdout + check.stderr).toMatch(/Test passed/);
    expect(check.stdout + check.stderr).not.toMatch(/^E:|Test failed/m);
    const dump = await runDcmtk('dcmdump', ['+P', '0070,0042', '+P', '0070,0041', '+P', '2050,0020', '+P', '0028,1050', '+P', '0028,1051', file]);
    // Transposed (a quarter clockwise, then flipped), then a quarter back on screen: upside down,
    // which GSPS says as half a turn and a horizontal flip.
    expect(dump.stdout).toMatch(/\(0070,0042\) US 180\b/);
    expect(dump.stdout).toMatch(/\(0070,0041\) CS \[Y\]/);
    expect(dump.stdout).toMatch(/\(2050,0020\) CS \[INVERSE\]/);
    expect(dump.stdout).toMatch(/\(0028,1050\) DS \[480\]/);
    expect(dump.stdout).toMatch(/\(0028,1051\) DS \[2500\]/);

    await reload();
    await expect.poll(readingStatus, { timeout: 30_000 }).toMatch(/^presentation state "VIEWER" applied/);
    await expect.poll(() => readout()).toMatch(/^W: 2500 L: 480Zoom/);
    expect(await page.evaluate(() => window.__viewer!.viewer.grid.cells[0].viewport!.getProperties().invert)).toBe(true);
    const scaleAfter = await page.evaluate(() => window.__viewer!.viewer.grid.cells[0].viewport!.getCamera().parallelScale);
    // The displayed area is saved in whole pixels: at most one more at each edge of the 2 x scale shown.
    expect(Math.abs(scaleAfter - scaleBefore)).toBeLessThan(ct2.phantom.pixelSpacing + 0.01);
    // Upside down: the rod (right of the centre, anterior) shows right and down; inverted, so dark.
    const p = ct2.phantom;
    const bone = await v.canvasPoint(0, [p.boneX, p.boneY, ctSliceZ(p, 0)]);
    const { w, h } = await canvasSize();
    expect(bone.x).toBeGreaterThan(w / 2 + 10);
    expect(bone.y).toBeGreaterThan(h / 2 + 10);
    // Bone (1000 HU) in a 480/2500 window is 70.8 % grey, inverted 29.2 %.
    const boneGrey = await page.evaluate(({ x, y }) => {
      const c = (
        window.__viewer!.viewer.grid.cells[0].viewport as unknown as {
          canvas: { getContext(k: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } };
        }
      ).canvas;
      return c.getContext('2d').getImageData(Math.round(x), Math.round(y), 1, 1).data[0];
    }, bone);
    expect(Math.abs(boneGrey - 255 * (1 - (1000 - (480 - 1250)) / 2500))).toBeLessThan(4);
    // One copy of each annotation: the GSPS's and the SR's are the same ones.
    expect((await v.annotations('Label')).length).toBe(1);
    expect((await v.annotations('Polyline')).length).toBe(1);
  });
});

describe('key images', { timeout: 400_000 }, () => {
  const sopsShown = () =>
    page.evaluate(() =>
      window.__viewer!.viewer.grid.cells[0].viewport!.getImageIds().map((id) => {
        const m = /instances\/([^/]+)\/frames/.exec(id);
        return m ? m[1] : id;
      }),
    );

  it('marks images, saves them as a Key Object Selection that dsrdump reads, and shows them as the study’s key images', async () => {
    await openStudy(ct2.studyUid);
    const cell = await v.pagePoint(0, [0, 0, ctSliceZ(ct2.phantom, 0)]);
    await page.mouse.click(cell.x, cell.y);
    await page.keyboard.press('Home');
    for (const target of [2, 4]) {
      while ((await v.sliceIndex(0)) < target) await page.keyboard.press('ArrowDown');
      await page.click('#key-image');
    }
    await expect.poll(readingStatus).toBe('2 key image(s) marked in this study');
    await expect.poll(() => page.getAttribute('#key-image', 'aria-pressed')).toBe('true');
    expect(await page.isVisible('.viewport-cell[data-index="0"] .key-badge')).toBe(true);
    await page.click('#save-key-images');
    await expect.poll(readingStatus, { timeout: 30_000 }).toBe('2 key image(s) saved');

    const { file } = await fetchNewest(ct2.studyUid, 'KO', 'kos.dcm');
    const dump = await runDcmtk('dsrdump', ['+Pu', file]);
    expect(dump.code, dump.stderr).toBe(0);
    expect(dump.stdout).toMatch(/Key Object Selection Document/);
    expect(dump.stdout).toMatch(/"Of Interest"/);
    expect((dump.stdout.match(/contains IMAGE:/g) ?? []).length, dump.stdout).toBe(2);
    expect(dump.stdout).toContain(ct2.sopInstanceUids[2]);
    expect(dump.stdout).toContain(ct2.sopInstanceUids[4]);

    await reload();
    await expect.poll(() => page.textContent('#series-panel li.key-images'), { timeout: 30_000 }).toBe('★ Key images2 images');
    await page.click('#series-panel li.key-images');
    await expect.poll(sopsShown, { timeout: 30_000 }).toEqual([ct2.sopInstanceUids[2], ct2.sopInstanceUids[4]]);
    await expect.poll(() => page.isVisible('.viewport-cell[data-index="0"] .key-badge')).toBe(true);
  });
});
